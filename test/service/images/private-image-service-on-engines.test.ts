import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ConstraintViolationError } from '../../../src/core/errors.js';
import type { User } from '../../../src/core/models/user.js';
import { SqlImageRepository, type ImageRepository } from '../../../src/data/image-repository.js';
import { LocalImageGenerator } from '../../../src/service/generation/index.js';
import { createImageCommand, PrivateImageService } from '../../../src/service/images/index.js';
import { FileImageStore, ImageStorage } from '../../../src/service/storage/index.js';
import { describeEachEngine, useMigratedDatabase } from '../../support/engines.js';
import { makeImageInput, PNG_SIGNATURE } from '../../support/factories.js';

const alice: User = { username: 'alice', is_admin: false, created_at: '2026-01-01T00:00:00.000Z' };
const generator = new LocalImageGenerator({ width: 16, height: 16 });

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let repo: SqlImageRepository;
  let imageDir: string;

  beforeAll(() => {
    repo = new SqlImageRepository(e.db);
  });
  beforeEach(async () => {
    imageDir = await mkdtemp(join(tmpdir(), 'pixyproxy-images-'));
  });
  afterEach(() => rm(imageDir, { recursive: true, force: true }));

  const service = (images: ImageRepository = repo) =>
    new PrivateImageService({ images, storage: new ImageStorage([new FileImageStore(imageDir)], 'file'), generator });

  async function storedFiles(): Promise<string[]> {
    return (await readdir(imageDir)).sort();
  }

  it('stores 200 concurrent creates as 200 distinct rows, each with its file', async () => {
    const created = await Promise.all(Array.from({ length: 200 }, () => service().create(alice, createImageCommand(makeImageInput()))));
    expect(new Set(created.map((image) => image.guid)).size).toBe(200);
    const rows = await e.db.all<{ guid: string; filename: string; sha256: string }>('SELECT guid, filename, sha256 FROM image');
    expect(rows).toHaveLength(200);
    expect(await storedFiles()).toEqual(rows.map((row) => row.filename).sort());
    for (const row of rows.slice(0, 20)) {
      const bytes = await readFile(join(imageDir, row.filename));
      expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    }
  });

  it('leaves neither row nor file when the insert fails on a duplicate guid', async () => {
    const existing = await service().create(alice, createImageCommand(makeImageInput()));
    // The row insert reuses a taken guid, so the real unique index rejects it after the bytes were stored.
    const clashing: ImageRepository = Object.assign(Object.create(repo) as SqlImageRepository, {
      insert: (record: Parameters<ImageRepository['insert']>[0]) => repo.insert({ ...record, guid: existing.guid }),
    });
    await expect(service(clashing).create(alice, createImageCommand(makeImageInput()))).rejects.toBeInstanceOf(ConstraintViolationError);
    expect(await e.db.all('SELECT guid FROM image')).toEqual([{ guid: existing.guid }]);
    expect(await storedFiles()).toEqual([existing.filename]);
  });
});
