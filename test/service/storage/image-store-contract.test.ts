import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile, utimes } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStoreUnavailableError } from '../../../src/core/errors.js';
import { SqlImageRepository, type ImageRepository } from '../../../src/data/image-repository.js';
import { migrate } from '../../../src/data/migrator.js';
import { OrphanSweeper, type ImageStore } from '../../../src/service/storage/index.js';
import { S3ImageStore } from '../../../src/service/storage/s3/s3-image-store.js';
import { SQLITE, type EngineDatabase } from '../../support/engines.js';
import { makeNewImage } from '../../support/factories.js';
import { describeEachStore, describeS3, objectStoreServer, openS3Store, type OpenedStore } from '../../support/image-stores.js';

const pngName = () => `${randomUUID()}.png`;

async function readAll(store: ImageStore, key: string, range?: { start: number; end: number }): Promise<Buffer | undefined> {
  const stream = await store.open(key, range);
  return stream === undefined ? undefined : buffer(stream);
}

async function listAll(store: ImageStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list()) keys.push(key);
  return keys.sort();
}

describeEachStore((kind) => {
  let opened: OpenedStore;
  let store: ImageStore;
  beforeEach(async () => {
    opened = await kind.open();
    store = opened.store;
  });
  afterEach(() => opened.close());

  it('returns exactly the bytes that were put', async () => {
    const key = opened.keyFor(pngName());
    const bytes = randomBytes(64 * 1024);
    await store.put(key, bytes);
    expect((await readAll(store, key))?.equals(bytes)).toBe(true);
  });

  it('returns one inclusive byte range, the last byte included', async () => {
    const key = opened.keyFor(pngName());
    const bytes = randomBytes(10_000);
    await store.put(key, bytes);
    expect((await readAll(store, key, { start: 100, end: 199 }))?.equals(bytes.subarray(100, 200))).toBe(true);
    expect((await readAll(store, key, { start: 9_999, end: 9_999 }))?.equals(bytes.subarray(9_999))).toBe(true);
  });

  it('reports the size and the time of the write', async () => {
    const key = opened.keyFor(pngName());
    const before = Date.now();
    await store.put(key, randomBytes(1234));
    const stored = await store.stat(key);
    expect(stored?.size).toBe(1234);
    // Store clocks count whole seconds (S3 Last-Modified); allow for that and a little skew.
    expect(Math.abs(stored!.modifiedAt.getTime() - before)).toBeLessThan(60_000);
  });

  it('answers undefined for the bytes and the size of a missing key', async () => {
    const key = opened.keyFor(pngName());
    expect(await store.open(key)).toBeUndefined();
    expect(await store.open(key, { start: 0, end: 9 })).toBeUndefined();
    expect(await store.stat(key)).toBeUndefined();
  });

  it('removes a stored key once: true, then false, and the bytes are gone', async () => {
    const key = opened.keyFor(pngName());
    await store.put(key, randomBytes(10));
    expect(await store.remove(key)).toBe(true);
    expect(await store.remove(key)).toBe(false);
    expect(await store.open(key)).toBeUndefined();
  });

  it('lists every stored key and nothing removed', async () => {
    const keys = [pngName(), pngName(), pngName()].map((name) => opened.keyFor(name));
    for (const key of keys) await store.put(key, randomBytes(16));
    await store.remove(keys[0]!);
    expect(await listAll(store)).toEqual(keys.slice(1).sort());
  });

  describe('swept by OrphanSweeper', () => {
    const HOUR_MS = 60 * 60_000;
    let database: EngineDatabase;
    let images: SqlImageRepository;
    beforeEach(async () => {
      database = await SQLITE.open();
      await migrate(database.db);
      images = new SqlImageRepository(database.db);
    });
    afterEach(() => database.close());

    /** Stores bytes under a generated filename, with a row naming them when asked. */
    async function stored(withRow: boolean): Promise<string> {
      const image = makeNewImage({ object_store: kind.name });
      const key = opened.keyFor(image.filename);
      await store.put(key, randomBytes(32));
      if (withRow) await images.insert({ ...image, object_key: key });
      return key;
    }

    // Ages cannot be set on an S3 object, so the sweeper's clock moves forward instead.
    const sweeper = (options: { images?: ImageRepository; graceMs?: number; clockAheadMs?: number } = {}) =>
      new OrphanSweeper({
        stores: [store],
        images: options.images ?? images,
        graceMs: options.graceMs ?? 5 * 60_000,
        now: () => Date.now() + (options.clockAheadMs ?? 0),
      });

    it('removes objects without a row once older than the grace period, never one with a row', async () => {
      const kept = await stored(true);
      const orphan = await stored(false);
      const report = await sweeper({ clockAheadMs: HOUR_MS }).sweep();
      expect(report).toMatchObject({ scanned: 2, orphans: 1, recent: 0, removed: 1 });
      expect(await listAll(store)).toEqual([kept]);
      expect(await store.stat(orphan)).toBeUndefined();
    });

    it('keeps an object without a row that is younger than the grace period (a create in flight)', async () => {
      const young = await stored(false);
      const report = await sweeper().sweep();
      expect(report).toMatchObject({ orphans: 0, recent: 1, removed: 0 });
      expect(await listAll(store)).toEqual([young]);
    });

    it("keeps a thumbnail while its original's row names it in this store and removes one whose original has no row", async () => {
      const original = await stored(true);
      const kept = `${original}.w256.v1.webp`;
      const orphan = `${opened.keyFor(makeNewImage().filename)}.w128.v1.avif`;
      await store.put(kept, randomBytes(16));
      await store.put(orphan, randomBytes(16));
      const report = await sweeper({ clockAheadMs: HOUR_MS }).sweep();
      expect(report).toMatchObject({ scanned: 3, orphans: 1, removed: 1 });
      expect((await listAll(store)).sort()).toEqual([original, kept].sort());
    });

    it('removes nothing on a dry run but reports the same counts', async () => {
      await stored(false);
      const report = await sweeper({ clockAheadMs: HOUR_MS }).sweep({ dryRun: true });
      expect(report).toMatchObject({ orphans: 1, removed: 0 });
      expect(await listAll(store)).toHaveLength(1);
    });

    it('keeps an object whose row commits while the sweep runs', async () => {
      const late = makeNewImage({ object_store: kind.name });
      const key = opened.keyFor(late.filename);
      await store.put(key, randomBytes(32));
      let calls = 0;
      // The batch check sees no row; the row commits before the re-check that precedes any delete.
      const racing: ImageRepository = Object.assign(Object.create(images) as ImageRepository, {
        async existingObjectKeys(kindOf: 'file' | 's3', keys: readonly string[]) {
          const found = await images.existingObjectKeys(kindOf, keys);
          if (++calls === 1) await images.insert({ ...late, object_key: key });
          return found;
        },
      });
      const report = await sweeper({ images: racing, clockAheadMs: HOUR_MS }).sweep();
      expect(report.removed).toBe(0);
      expect(await listAll(store)).toEqual([key]);
    });

    it('never removes an object that has a row, however old, across more than one batch', async () => {
      const keys: string[] = [];
      // 520 objects: past the sweeper's batch of 500, written 20 at a time.
      for (let i = 0; i < 26; i++) keys.push(...(await Promise.all(Array.from({ length: 20 }, () => stored(true)))));
      const report = await sweeper({ graceMs: 0, clockAheadMs: HOUR_MS }).sweep();
      expect(report).toMatchObject({ scanned: 520, orphans: 0, removed: 0 });
      expect(await listAll(store)).toEqual(keys.sort());
    }, 120_000);

    it.runIf(kind.name === 'file')('removes leftovers of interrupted writes (.tmp-*) once older than the grace period', async () => {
      await stored(false);
      const dir = opened.dir!;
      const hourAgo = new Date(Date.now() - HOUR_MS);
      await writeFile(join(dir, '.tmp-old'), 'partial');
      await utimes(join(dir, '.tmp-old'), hourAgo, hourAgo);
      await writeFile(join(dir, '.tmp-new'), 'partial');
      const report = await sweeper().sweep();
      expect(report).toMatchObject({ temporary: 1, removed: 1, recent: 1 });
      const left = [];
      for await (const temp of store.listTemporary()) left.push(temp.name);
      expect(left).toEqual(['.tmp-new']);
    });
  });

  it('refuses a key that was not generated from a filename', async () => {
    const escaping = `${opened.keyFor('x.png').slice(0, -'x.png'.length)}../escape.png`;
    await expect(store.put(escaping, randomBytes(1))).rejects.toThrow(/unsafe|not an image key/);
    await expect(store.open(escaping)).rejects.toThrow(/unsafe|not an image key/);
  });
});

describeS3('S3ImageStore', () => {
  let opened: Awaited<ReturnType<typeof openS3Store>>;
  beforeEach(async () => {
    opened = await openS3Store('images/');
  });
  afterEach(() => opened.close());

  it('stores under the configured prefix and lists only image keys below it', async () => {
    const name = pngName();
    await opened.store.put(opened.keyFor(name), randomBytes(8));
    // Another application's objects in the same bucket are never listed, so never swept.
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await opened.bucket.client.send(new PutObjectCommand({ Bucket: opened.bucket.s3.bucket, Key: 'other/app.txt', Body: 'x' }));
    await opened.bucket.client.send(new PutObjectCommand({ Bucket: opened.bucket.s3.bucket, Key: 'images/notes/readme', Body: 'x' }));
    expect(await opened.bucket.keys()).toContain(`images/${name}`);
    expect(await listAll(opened.store)).toEqual([`images/${name}`]);
  });

  it('stores the content type the filename implies', async () => {
    const key = opened.keyFor(pngName());
    await opened.store.put(key, randomBytes(8));
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const head = await opened.bucket.client.send(new HeadObjectCommand({ Bucket: opened.bucket.s3.bucket, Key: key }));
    expect(head.ContentType).toBe('image/png');
  });

  it('answers ping for a reachable bucket and refuses a missing one without calling it unavailable', async () => {
    await expect(opened.s3.ping()).resolves.toBeUndefined();
    const missing = new S3ImageStore({ ...opened.bucket.s3, bucket: 'pixyproxy-no-such-bucket', credentials: opened.bucket.credentials, timeoutMs: 15_000 });
    try {
      const error = await missing.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ObjectStoreUnavailableError);
    } finally {
      missing.close();
    }
  });

  it('mints a presigned GET URL that serves the bytes with the pinned headers', async () => {
    const key = opened.keyFor(pngName());
    const bytes = randomBytes(2048);
    await opened.store.put(key, bytes);
    const url = await opened.s3.presignGet(key, { expiresInSeconds: 60, contentType: 'image/png', cacheControl: 'private, max-age=60' });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toBe('private, max-age=60');
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });
});

describeS3('S3ImageStore when the store fails', () => {
  // A port nothing listens on: connections are refused at once.
  let refusedPort: number;
  // A server that accepts connections and never answers: the slow store.
  let silent: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    refusedPort = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const storeAt = (port: number, timeoutMs: number) =>
    new S3ImageStore({
      bucket: 'pixyproxy-faults',
      prefix: '',
      endpoint: `http://127.0.0.1:${port}`,
      region: objectStoreServer.region,
      forcePathStyle: true,
      credentials: { accessKeyId: objectStoreServer.accessKeyId, secretAccessKey: objectStoreServer.secretAccessKey },
      timeoutMs,
    });

  it('maps a refused connection to ObjectStoreUnavailableError with Retry-After, for every operation', async () => {
    const store = storeAt(refusedPort, 5_000);
    try {
      const key = store.keyFor(pngName());
      for (const attempt of [
        () => store.put(key, randomBytes(4)),
        () => store.open(key),
        () => store.stat(key),
        () => store.remove(key),
        () => listAll(store),
        () => store.ping(),
      ]) {
        const error = await attempt().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ObjectStoreUnavailableError);
        expect((error as ObjectStoreUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
      }
    } finally {
      store.close();
    }
  });

  it('gives up on a store that never answers after its timeout, for reads and writes', async () => {
    const timeoutMs = 500;
    const store = storeAt((silent.address() as { port: number }).port, timeoutMs);
    try {
      const key = store.keyFor(pngName());
      for (const attempt of [() => store.open(key, { start: 0, end: 9 }), () => store.put(key, randomBytes(4)), () => store.stat(key)]) {
        const started = Date.now();
        const error = await attempt().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ObjectStoreUnavailableError);
        expect((error as Error).message).toMatch(/in time/);
        // Bounded by the timeout (with slack for a loaded machine), not by the SDK's retries.
        expect(Date.now() - started).toBeLessThan(timeoutMs + 5_000);
      }
    } finally {
      store.close();
    }
  });
});
