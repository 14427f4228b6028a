import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlImageRepository, type ImageRepository } from '../../../src/data/image-repository.js';
import { OrphanSweeper } from '../../../src/service/storage/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.js';
import { makeNewImage } from '../../support/factories.js';

const HOUR_AGO = new Date(Date.now() - 60 * 60_000);
let t: TestApp;
let images: SqlImageRepository;
let dir: string;

beforeEach(async () => {
  t = await createTestApp();
  images = new SqlImageRepository(t.context.db);
  dir = t.context.config.imageDir;
  await t.context.store.put('probe.png', Buffer.from('x'));
  await t.context.store.remove('probe.png');
});
afterEach(() => t.close());

async function storeFile(filename: string, mtime?: Date) {
  await writeFile(join(dir, filename), 'bytes');
  if (mtime) await utimes(join(dir, filename), mtime, mtime);
}

async function withRow(mtime?: Date) {
  const record = makeNewImage();
  await storeFile(record.filename, mtime);
  await images.insert(record);
  return record.filename;
}

describe('OrphanSweeper', () => {
  it('removes old files without a row and old temp files, keeps files with rows and recent ones', async () => {
    const kept = await withRow(HOUR_AGO);
    await storeFile('0b7e6d4a-1111-4a4a-8a8a-000000000001.png', HOUR_AGO);
    await storeFile('0b7e6d4a-1111-4a4a-8a8a-000000000002.png');
    await storeFile('.tmp-old', HOUR_AGO);
    await storeFile('.tmp-new');
    const report = await new OrphanSweeper({ store: t.context.store, images }).sweep();
    expect(report).toEqual({ scanned: 3, orphans: 1, recent: 1, removed: 2, temporary: 1 });
    expect((await readdir(dir)).sort()).toEqual(['.tmp-new', '0b7e6d4a-1111-4a4a-8a8a-000000000002.png', kept].sort());
  });

  it('removes nothing on a dry run but reports the same counts', async () => {
    await storeFile('0b7e6d4a-1111-4a4a-8a8a-000000000003.png', HOUR_AGO);
    await storeFile('.tmp-old', HOUR_AGO);
    const report = await new OrphanSweeper({ store: t.context.store, images }).sweep({ dryRun: true });
    expect(report).toMatchObject({ orphans: 1, temporary: 1, removed: 0 });
    expect(await readdir(dir)).toHaveLength(2);
  });

  it('keeps a file whose row commits while the sweep runs', async () => {
    const late = makeNewImage();
    await storeFile(late.filename, HOUR_AGO);
    let calls = 0;
    // The batch check sees no row; the row commits before the re-check that precedes any unlink.
    const racing: ImageRepository = Object.assign(Object.create(images) as ImageRepository, {
      async existingFilenames(filenames: readonly string[]) {
        const found = await images.existingFilenames(filenames);
        if (++calls === 1) await images.insert(late);
        return found;
      },
    });
    const report = await new OrphanSweeper({ store: t.context.store, images: racing }).sweep();
    expect(report.removed).toBe(0);
    expect(await readdir(dir)).toEqual([late.filename]);
  });

  it('never removes a file that has a row, however old, across many batches', async () => {
    const filenames = [];
    for (let i = 0; i < 520; i++) filenames.push(await withRow(HOUR_AGO));
    const report = await new OrphanSweeper({ store: t.context.store, images, graceMs: 0 }).sweep();
    expect(report).toMatchObject({ scanned: 520, orphans: 0, removed: 0 });
    expect((await readdir(dir)).length).toBe(520);
  });
});
