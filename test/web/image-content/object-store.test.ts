import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONE_MIB_SIDE } from '../../../scripts/noise-png.js';
import { SqlImageRepository } from '../../../src/data/image-repository.js';
import { expectProblem } from '../../support/expect-problem.js';
import { makeImageInput, makeNewImage } from '../../support/factories.js';
import { describeS3, objectStoreServer } from '../../support/image-stores.js';
import { NoiseImageGenerator } from '../../support/noise-generator.js';
import { createTestBucket, useObjectStoreCredentials, type TestBucket } from '../../support/object-store.js';
import { createTestApp, type TestApp } from '../../support/test-app.js';

// GET|HEAD /image/{guid}/content with the bytes in S3 (a real Swift s3api server): the same answers as
// from local disk, streamed with a ranged GET; the store's faults as 503; CONTENT_DELIVERY=redirect.
// The full conditional/range matrix lives in conditional-range-head.test.ts (file store); this file
// pins what changes when the bytes are behind an object store.

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
useObjectStoreCredentials(objectStoreServer);

/** Listens on the app's socket, so the bytes really cross the wire. */
async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

async function closeApp(t: TestApp | undefined): Promise<void> {
  if (t === undefined) return;
  t.app.server.closeAllConnections();
  await t.close();
}

describeS3('content with IMAGE_STORE=s3', () => {
  let bucket: TestBucket;
  let t: TestApp;
  let base: string;
  let auth: string;
  let guid: string;
  let bytes: Buffer;

  beforeAll(async () => {
    bucket = await createTestBucket(objectStoreServer, 'img/');
    t = await createTestApp({ generator: new NoiseImageGenerator(ONE_MIB_SIDE), env: bucket.env });
    auth = await t.addUser();
    base = await listen(t);
    const input = makeImageInput();
    guid = (await t.createImage(auth, input)).guid;
    bytes = (await new NoiseImageGenerator(ONE_MIB_SIDE).generate(input.prompt)).bytes;
  });
  afterAll(async () => {
    await closeApp(t);
    await bucket?.destroy();
  });

  it('writes the bytes to the bucket under the prefix and records the key in the row', async () => {
    expect(await bucket.keys()).toEqual([`img/${guid}.png`]);
    const row = await new SqlImageRepository(t.context.db).findByGuid(guid);
    expect(row).toMatchObject({ object_store: 's3', object_key: `img/${guid}.png` });
  });

  it('streams a 1 MiB image byte for byte with the validators, immutable caching and nosniff', async () => {
    const response = await fetch(`${base}/image/${guid}/content`);
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.length).toBe(bytes.length);
    expect(sha256(body)).toBe(sha256(bytes));
    expect(response.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('last-modified')).toMatch(/GMT$/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
  });

  it('answers one range with 206 and exactly those bytes', async () => {
    const response = await fetch(`${base}/image/${guid}/content`, { headers: { range: 'bytes=1000-1999' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
  });

  it('answers a range past the end with 416 and Content-Range: bytes */size', async () => {
    const response = await t.app.inject({ url: `/image/${guid}/content`, headers: { range: `bytes=${bytes.length}-` } });
    expectProblem(response, 416, 'RangeNotSatisfiableError');
    expect(response.headers['content-range']).toBe(`bytes */${bytes.length}`);
  });

  it('answers If-None-Match with 304 and HEAD with the length, both without reading the object', async () => {
    const etag = `"${sha256(bytes)}"`;
    const notModified = await fetch(`${base}/image/${guid}/content`, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    const head = await fetch(`${base}/image/${guid}/content`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect(head.headers.get('etag')).toBe(etag);
  });

  it('answers 500 problem+json, not 404, when the row exists but its object is gone', async () => {
    const orphaned = await t.createImage(auth);
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.s3.bucket, Key: `img/${orphaned.guid}.png` }));
    const response = await t.app.inject({ url: `/image/${orphaned.guid}/content` });
    const problem = expectProblem(response, 500, 'InternalServerError');
    expect(problem.detail).toBe('An unexpected error occurred');
    expect(response.body).not.toContain('img/');
  });

  it('deletes the object with the image', async () => {
    const doomed = await t.createImage(auth);
    expect(await bucket.keys()).toContain(`img/${doomed.guid}.png`);
    const response = await t.app.inject({ method: 'DELETE', url: `/image/${doomed.guid}`, headers: { authorization: auth } });
    expect(response.statusCode).toBe(204);
    expect(await bucket.keys()).not.toContain(`img/${doomed.guid}.png`);
  });

  it('keeps a thumbnail in the bucket beside its original and deletes it with the image', async () => {
    const image = await t.createImage(auth);
    const response = await t.app.inject({ url: `/image/${image.guid}/content?w=128`, headers: { accept: 'image/webp' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    expect(await bucket.keys()).toContain(`img/${image.guid}.png.w128.v1.webp`);
    const deleted = await t.app.inject({ method: 'DELETE', url: `/image/${image.guid}`, headers: { authorization: auth } });
    expect(deleted.statusCode).toBe(204);
    expect((await bucket.keys()).filter((key) => key.startsWith(`img/${image.guid}`))).toEqual([]);
  });

  it('reads images written to the file store before IMAGE_STORE became s3 from the file store', async () => {
    // The row names the store, so the file store keeps serving what it holds.
    const fileStore = t.context.storage.storeFor('file');
    const old = makeNewImage({ byte_size: 5 });
    await fileStore.put(old.filename, Buffer.from('older'));
    await new SqlImageRepository(t.context.db).insert(old);
    const response = await t.app.inject({ url: `/image/${old.guid}/content` });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('older');
  });
});

describeS3('content with CONTENT_DELIVERY=redirect', () => {
  let bucket: TestBucket;
  let t: TestApp;
  let guid: string;
  let bytes: Buffer;

  beforeAll(async () => {
    bucket = await createTestBucket(objectStoreServer, 'img/');
    t = await createTestApp({ env: { ...bucket.env, CONTENT_DELIVERY: 'redirect', PRESIGN_EXPIRES_SECONDS: '120' } });
    const created = await t.createImage(await t.addUser());
    guid = created.guid;
    const stored = await t.context.storage.open({ object_store: 's3', object_key: `img/${guid}.png` });
    bytes = Buffer.concat(await stored!.toArray());
  });
  afterAll(async () => {
    await closeApp(t);
    await bucket?.destroy();
  });

  it('answers GET with 302 to a presigned URL that serves the bytes, minted per request and not cacheable', async () => {
    const first = await t.app.inject({ url: `/image/${guid}/content` });
    expect(first.statusCode).toBe(302);
    expect(first.headers['cache-control']).toBe('no-store');
    const location = String(first.headers['location']);
    expect(location).toContain(`/${bucket.s3.bucket}/img/${guid}.png?`);
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe('120');
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await fetched.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('still answers If-None-Match with 304 and HEAD with 200 itself', async () => {
    const etag = `"${sha256(bytes)}"`;
    expect((await t.app.inject({ url: `/image/${guid}/content`, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const head = await t.app.inject({ method: 'HEAD', url: `/image/${guid}/content` });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(bytes.length));
  });

  it('streams a thumbnail rather than redirecting: it may not exist until this request makes it', async () => {
    const response = await t.app.inject({ url: `/image/${guid}/content?w=128`, headers: { accept: 'image/webp' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    expect(response.headers['location']).toBeUndefined();
  });

  it('mints no URL for an unknown guid: 404 problem+json', async () => {
    const response = await t.app.inject({ url: '/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41/content' });
    expectProblem(response, 404, 'RecordNotFoundError');
    expect(response.headers['location']).toBeUndefined();
  });

  it('streams bytes kept in the file store, which cannot presign', async () => {
    const old = makeNewImage({ byte_size: 5 });
    await t.context.storage.storeFor('file').put(old.filename, Buffer.from('older'));
    await new SqlImageRepository(t.context.db).insert(old);
    const response = await t.app.inject({ url: `/image/${old.guid}/content` });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('older');
  });
});

describeS3('content when the object store fails', () => {
  // A server that accepts connections and never answers: the slow store. A closed port: the dead one.
  let silent: Server;
  const sockets = new Set<Socket>();
  let refusedPort: number;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    refusedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    for (const t of apps) await closeApp(t);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  async function appWithStoreAt(port: number): Promise<TestApp> {
    const t = await createTestApp({
      env: {
        IMAGE_STORE: 's3',
        S3_BUCKET: 'pixyproxy-unreachable',
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        S3_REGION: 'us-east-1',
        STORE_TIMEOUT_MS: '1000',
      },
    });
    apps.push(t);
    return t;
  }

  async function rowInS3(t: TestApp): Promise<string> {
    const image = makeNewImage({ object_store: 's3', object_key: 'img/somewhere.png' });
    await new SqlImageRepository(t.context.db).insert(image);
    return image.guid;
  }

  it('answers 503 problem+json with Retry-After when the store refuses connections', async () => {
    const t = await appWithStoreAt(refusedPort);
    const response = await t.app.inject({ url: `/image/${await rowInS3(t)}/content` });
    expectProblem(response, 503, 'ObjectStoreUnavailableError');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.headers['etag']).toBeUndefined();
  });

  it('answers 503 within about STORE_TIMEOUT_MS when the store accepts but never answers', async () => {
    const t = await appWithStoreAt((silent.address() as AddressInfo).port);
    const guid = await rowInS3(t);
    const started = Date.now();
    const response = await t.app.inject({ url: `/image/${guid}/content`, headers: { range: 'bytes=0-9' } });
    expectProblem(response, 503, 'ObjectStoreUnavailableError');
    expect(response.json()).toMatchObject({ detail: expect.stringMatching(/did not answer in time/) });
    // 1 s timeout; generous slack for a loaded machine, but far below the SDK's own retry schedule.
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('refuses a create with 503 and writes no row when the bytes cannot be stored', async () => {
    const t = await appWithStoreAt(refusedPort);
    const response = await t.app.inject({
      method: 'POST',
      url: '/image',
      headers: { authorization: await t.addUser() },
      payload: makeImageInput(),
    });
    expectProblem(response, 503, 'ObjectStoreUnavailableError');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.context.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM image'))?.n).toBe(0);
  });

  it('answers /ready with 503 while the bucket is unreachable', async () => {
    const t = await appWithStoreAt(refusedPort);
    const response = await t.app.inject({ url: '/ready' });
    expectProblem(response, 503, 'ObjectStoreUnavailableError');
  });
});
