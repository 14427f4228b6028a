import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ObjectLocation } from '../../../src/core/models/image.js';
import { SqlImageRepository } from '../../../src/data/image-repository.js';
import { migrate } from '../../../src/data/migrator.js';
import {
  FileImageStore,
  ImageStorage,
  StorageMigration,
  type MigrationProgress,
} from '../../../src/service/storage/index.js';
import { S3ImageStore } from '../../../src/service/storage/s3/s3-image-store.js';
import { progressReporter } from '../../../src/cli/storage-command.js';
import { runCli } from '../../support/cli-process.js';
import { SQLITE, type EngineDatabase } from '../../support/engines.js';
import { makeNewImage } from '../../support/factories.js';
import { describeS3, objectStoreServer, TEST_STORE_TIMEOUT_MS } from '../../support/image-stores.js';
import { createTestBucket, type TestBucket } from '../../support/object-store.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describeS3('pixyproxy storage migrate', () => {
  let dir: string;
  let database: EngineDatabase;
  let images: SqlImageRepository;
  let bucket: TestBucket;
  let files: FileImageStore;
  let s3: S3ImageStore;
  let migration: StorageMigration;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixyproxy-migrate-'));
    database = await SQLITE.open();
    await migrate(database.db);
    images = new SqlImageRepository(database.db);
    bucket = await createTestBucket(objectStoreServer, 'img/');
    files = new FileImageStore(join(dir, 'images'));
    s3 = new S3ImageStore({ ...bucket.s3, credentials: bucket.credentials, timeoutMs: TEST_STORE_TIMEOUT_MS });
    migration = new StorageMigration({ storage: new ImageStorage([files, s3], 'file'), images });
  });
  afterEach(async () => {
    s3.close();
    await bucket.destroy();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An image in the file store with the row the create path would have written. */
  async function imageInFiles(bytes: Buffer = randomBytes(3000)) {
    const image = makeNewImage({ byte_size: bytes.length, sha256: sha256(bytes) });
    await files.put(image.filename, bytes);
    await images.insert(image);
    return { ...image, bytes };
  }

  async function bytesAt(location: ObjectLocation | undefined): Promise<Buffer | undefined> {
    if (location === undefined) return undefined;
    const stream = await (location.object_store === 's3' ? s3 : files).open(location.object_key);
    return stream && buffer(stream);
  }

  it('copies every image to S3, verifies it, points each row at the copy, and moves them back', async () => {
    const all = [await imageInFiles(), await imageInFiles(), await imageInFiles()];
    const progress: MigrationProgress[] = [];
    const summary = await migration.migrate('s3', (event) => progress.push(event));
    expect(summary).toEqual({ to: 's3', copied: 3, alreadyThere: 0, gone: 0, failed: [] });
    expect(progress.map((event) => [event.done, event.total, event.outcome])).toEqual([[1, 3, 'copied'], [2, 3, 'copied'], [3, 3, 'copied']]);
    for (const image of all) {
      const location = await images.locationOf(image.guid);
      expect(location).toEqual({ object_store: 's3', object_key: `img/${image.filename}` });
      expect((await bytesAt(location))?.equals(image.bytes)).toBe(true);
    }
    // The old copies stay for readers that looked the row up a moment ago; the sweep takes them later.
    expect(await files.stat(all[0]!.filename)).toBeDefined();

    const back = await migration.migrate('file');
    expect(back).toMatchObject({ to: 'file', copied: 3, failed: [] });
    for (const image of all) expect(await images.locationOf(image.guid)).toEqual({ object_store: 'file', object_key: image.filename });
  });

  it('resumes after an interruption without copying anything twice, and a re-run finds nothing to do', async () => {
    for (let i = 0; i < 4; i++) await imageInFiles();
    // Interrupted after the second image (as a Ctrl-C or a crash would).
    await expect(
      migration.migrate('s3', (event) => {
        if (event.done === 2) throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    expect(await images.countByStore()).toEqual({ file: 2, s3: 2 });

    const resumed = await migration.migrate('s3');
    expect(resumed).toMatchObject({ copied: 2, alreadyThere: 2, failed: [] });
    expect(await bucket.keys()).toHaveLength(4);
    const again = await migration.migrate('s3');
    expect(again).toEqual({ to: 's3', copied: 0, alreadyThere: 4, gone: 0, failed: [] });
  });

  it('leaves an image whose bytes do not match their sha-256, or are missing, where it is and names it', async () => {
    const good = await imageInFiles();
    const corrupt = await imageInFiles();
    await files.put(corrupt.filename, Buffer.from('not the bytes that were hashed'));
    const missing = await imageInFiles();
    await files.remove(missing.filename);
    const summary = await migration.migrate('s3');
    expect(summary.copied).toBe(1);
    expect(summary.failed).toEqual(
      expect.arrayContaining([
        { guid: corrupt.guid, reason: expect.stringMatching(/do not match the recorded sha-256/) },
        { guid: missing.guid, reason: expect.stringMatching(/missing/) },
      ]),
    );
    expect(await images.locationOf(good.guid)).toMatchObject({ object_store: 's3' });
    expect(await images.locationOf(corrupt.guid)).toMatchObject({ object_store: 'file' });
    expect(await bucket.keys()).toEqual([`img/${good.filename}`]);
  });

  it('prints plain progress lines and a summary when not on a terminal, and exits 1 when an image failed', async () => {
    await imageInFiles();
    const broken = await imageInFiles();
    await files.remove(broken.filename);
    const result = await runCli(['storage', 'migrate', '--to', 's3'], {
      DATA_DIR: dir,
      DATABASE_URL: database.databaseUrl,
      ...bucket.env,
      IMAGE_STORE: 'file',
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`failed ${broken.guid}: bytes missing from the file store`);
    expect(result.stderr).toContain('2/2 images looked at, 1 failed');
    expect(result.stdout).toContain('copied to s3 and verified (sha-256): 1\n');
    expect(result.stdout).toContain('failed: 1\n');
    expect(result.stderr).not.toContain('\r');
  }, 60_000);
});

it('draws one progress bar in place on a terminal', () => {
  const written: string[] = [];
  const reporter = progressReporter({ isTTY: true, columns: 80, write: (text) => written.push(text) }, 's3');
  reporter.update({ done: 1, total: 4, guid: 'a', outcome: 'copied' });
  reporter.update({ done: 4, total: 4, guid: 'b', outcome: 'copied' });
  reporter.end();
  expect(written[0]).toMatch(/^\r\x1b\[2K\[#{8}\.{22}\] 1\/4 to s3$/);
  expect(written[1]).toMatch(/^\r\x1b\[2K\[#{30}\] 4\/4 to s3$/);
  expect(written.at(-1)).toBe('\n');
});
