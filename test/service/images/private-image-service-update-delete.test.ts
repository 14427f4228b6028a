import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OperationNotAllowedError, RecordNotFoundError } from '../../../src/core/errors.js';
import { imageDetailOf } from '../../../src/core/models/image.js';
import type { User } from '../../../src/core/models/user.js';
import type { Database } from '../../../src/data/database.js';
import { SqlImageRepository } from '../../../src/data/image-repository.js';
import { migrate } from '../../../src/data/migrator.js';
import { SqliteDatabase } from '../../../src/data/sqlite-database.js';
import { LocalImageGenerator } from '../../../src/service/generation/index.js';
import type { ImageStore } from '../../../src/service/storage/index.js';
import { createImageCommand, PrivateImageService, PublicImageService, updateTagsCommand } from '../../../src/service/images/index.js';
import type { ServiceLogger } from '../../../src/core/service-logger.js';
import { FileImageStore, ImageStorage } from '../../../src/service/storage/index.js';
import { makeImageInput } from '../../support/factories.js';

const alice: User = { username: 'alice', is_admin: false, created_at: '2026-01-01T00:00:00.000Z' };
const bob: User = { username: 'bob', is_admin: false, created_at: '2026-01-01T00:00:00.000Z' };
const root: User = { username: 'root', is_admin: true, created_at: '2026-01-01T00:00:00.000Z' };
const UNKNOWN_GUID = '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41';

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A ServiceLogger that keeps what it is told, so tests can check what an operator would see. */
function recordingLogger(lines: LogLine[]): ServiceLogger {
  return {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** The real file store, except that removing bytes fails the way a busy or read-only disk would. */
class RemoveFailingStore implements ImageStore {
  readonly kind = 'file';
  constructor(private readonly inner: FileImageStore) {}
  keyFor = (filename: string) => this.inner.keyFor(filename);
  ping = () => this.inner.ping();
  put = (filename: string, bytes: Uint8Array) => this.inner.put(filename, bytes);
  open: ImageStore['open'] = (filename, range) => this.inner.open(filename, range);
  stat = (filename: string) => this.inner.stat(filename);
  list = () => this.inner.list();
  listTemporary = () => this.inner.listTemporary();
  removeTemporary = (name: string) => this.inner.removeTemporary(name);
  async remove(): Promise<boolean> {
    throw Object.assign(new Error('EBUSY: resource busy or locked'), { code: 'EBUSY' });
  }
}

let dir: string;
let db: Database;
let images: SqlImageRepository;
let files: FileImageStore;
let clock: Date;
let logs: LogLine[];

function service(store: ImageStore = files): PrivateImageService {
  return new PrivateImageService({
    images,
    storage: new ImageStorage([store], 'file'),
    generator: new LocalImageGenerator({ width: 64, height: 64 }),
    log: recordingLogger(logs),
    now: () => clock,
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-owners-'));
  db = await SqliteDatabase.open(join(dir, 'test.db'));
  await migrate(db);
  images = new SqlImageRepository(db);
  files = new FileImageStore(join(dir, 'images'));
  clock = new Date('2026-03-01T12:00:00.000Z');
  logs = [];
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('PrivateImageService.updateTags', () => {
  it('replaces the tag set with the normalised new tags', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput({ tags: ['sea', 'light'] })));
    const updated = await service().updateTags(alice, created.guid, updateTagsCommand({ tags: [' Storm ', 'NIGHT', 'storm'] }));
    expect(updated.tags).toEqual(['night', 'storm']);
    expect((await images.findByGuid(created.guid))?.tags).toEqual(['night', 'storm']);
  });

  it('sets updated_at from the service clock and leaves created_at alone', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    clock = new Date('2026-03-02T08:30:00.250Z');
    const updated = await service().updateTags(alice, created.guid, updateTagsCommand({ tags: ['later'] }));
    expect(updated.updated_at).toBe('2026-03-02T08:30:00.250Z');
    expect(updated.created_at).toBe(created.created_at);
  });

  it('advances updated_at by a millisecond when the clock has not moved since the last write', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    const first = await service().updateTags(alice, created.guid, updateTagsCommand({ tags: ['one'] }));
    const second = await service().updateTags(alice, created.guid, updateTagsCommand({ tags: ['two'] }));
    expect(first.updated_at).toBe('2026-03-01T12:00:00.001Z');
    expect(second.updated_at).toBe('2026-03-01T12:00:00.002Z');
  });

  it('advances updated_at even when the clock has stepped back', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    clock = new Date('2026-02-01T00:00:00.000Z');
    const updated = await service().updateTags(alice, created.guid, updateTagsCommand({ tags: ['x'] }));
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
  });

  it('accepts an empty set, removing every tag', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput({ tags: ['sea'] })));
    expect((await service().updateTags(alice, created.guid, updateTagsCommand({ tags: [] }))).tags).toEqual([]);
  });

  it('lets an admin change the tags of an image someone else made', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    const updated = await service().updateTags(root, created.guid, updateTagsCommand({ tags: ['curated'] }));
    expect(updated).toMatchObject({ tags: ['curated'], author: 'alice' });
  });

  it('refuses a user who is neither the author nor an admin, and changes nothing', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput({ tags: ['sea'] })));
    await expect(service().updateTags(bob, created.guid, updateTagsCommand({ tags: ['mine'] }))).rejects.toBeInstanceOf(OperationNotAllowedError);
    expect(imageDetailOf((await images.findByGuid(created.guid))!)).toEqual(created);
  });

  it('throws RecordNotFoundError for an unknown guid', async () => {
    await expect(service().updateTags(alice, UNKNOWN_GUID, updateTagsCommand({ tags: ['x'] }))).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  it('finds the image whatever the case of the guid', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    const updated = await service().updateTags(alice, created.guid.toUpperCase(), updateTagsCommand({ tags: ['upper'] }));
    expect(updated.guid).toBe(created.guid);
  });

  it('moves the image from the old tag filter to the new one', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput({ tags: ['old'] })));
    await service().updateTags(alice, created.guid, updateTagsCommand({ tags: ['new'] }));
    const reader = new PublicImageService(images, new ImageStorage([files], 'file'));
    expect((await reader.list({ tag: 'new' })).images.map((i) => i.guid)).toEqual([created.guid]);
    expect((await reader.list({ tag: 'old' })).images).toEqual([]);
  });
});

describe('PrivateImageService.delete', () => {
  it('removes the row and the bytes', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    expect(await readdir(join(dir, 'images'))).toContain(created.filename);
    await service().delete(alice, created.guid);
    expect(await images.findByGuid(created.guid)).toBeUndefined();
    expect(await readdir(join(dir, 'images'))).not.toContain(created.filename);
  });

  it('lets an admin delete an image someone else made', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    await service().delete(root, created.guid);
    expect(await images.findByGuid(created.guid)).toBeUndefined();
  });

  it('refuses a user who is neither the author nor an admin, keeping row and bytes', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    await expect(service().delete(bob, created.guid)).rejects.toBeInstanceOf(OperationNotAllowedError);
    expect(await images.findByGuid(created.guid)).toBeDefined();
    expect(await files.stat(created.filename)).toBeDefined();
  });

  it('throws RecordNotFoundError for an unknown guid', async () => {
    await expect(service().delete(alice, UNKNOWN_GUID)).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  it('throws RecordNotFoundError the second time an image is deleted', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    await service().delete(alice, created.guid);
    await expect(service().delete(alice, created.guid)).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  it('keeps the row deleted and logs a warning when the bytes cannot be removed', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    await expect(service(new RemoveFailingStore(files)).delete(alice, created.guid)).resolves.toBeUndefined();
    expect(await images.findByGuid(created.guid)).toBeUndefined();
    expect(logs).toEqual([
      expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ store: 'file', key: created.filename }) }),
    ]);
    // The bytes stay behind as an orphan: no row claims them, so the sweep may take them.
    expect(await files.stat(created.filename)).toBeDefined();
    expect(await images.existingObjectKeys('file', [created.filename])).toEqual(new Set());
  });

  it('logs a warning when the bytes were already missing, and still deletes the row', async () => {
    const created = await service().create(alice, createImageCommand(makeImageInput()));
    await files.remove(created.filename);
    await service().delete(alice, created.guid);
    expect(await images.findByGuid(created.guid)).toBeUndefined();
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', obj: { store: 'file', key: created.filename } })]);
  });

  it('leaves the other images alone', async () => {
    const keep = await service().create(alice, createImageCommand(makeImageInput({ tags: ['shared'] })));
    const drop = await service().create(alice, createImageCommand(makeImageInput({ tags: ['shared'] })));
    await service().delete(alice, drop.guid);
    const reader = new PublicImageService(images, new ImageStorage([files], 'file'));
    expect((await reader.list({ tag: 'shared' })).images.map((i) => i.guid)).toEqual([keep.guid]);
    expect(await files.stat(keep.filename)).toBeDefined();
  });
});
