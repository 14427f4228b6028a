import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { InternalServerError, RecordNotFoundError } from '../../../src/core/errors.js';
import { PublicImageService } from '../../../src/service/images/index.js';
import { ContentCache } from '../../../src/service/storage/index.js';
import { encodeCursor } from '../../../src/service/images/index.js';
import { makeNewImage } from '../../support/factories.js';
import { InMemoryImageRepository, InMemoryImageStore, inMemoryStorage } from '../../support/fakes.js';

let images: InMemoryImageRepository;
let store: InMemoryImageStore;
let service: PublicImageService;

beforeEach(() => {
  images = new InMemoryImageRepository();
  store = new InMemoryImageStore();
  service = new PublicImageService(images, inMemoryStorage(store));
});

async function readAll(stream: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(stream)) return stream;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

describe('PublicImageService.getDetail', () => {
  it('finds an image by its guid, in any letter case', async () => {
    const record = makeNewImage();
    await images.insert(record);
    expect((await service.getDetail(record.guid)).guid).toBe(record.guid);
    expect((await service.getDetail(record.guid.toUpperCase())).guid).toBe(record.guid);
  });

  it('throws RecordNotFoundError for an unknown guid', async () => {
    await expect(service.getDetail('3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41')).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  it('throws RecordNotFoundError for something that is not a guid, without asking the repository', async () => {
    await expect(service.getDetail('../../etc/passwd')).rejects.toBeInstanceOf(RecordNotFoundError);
  });
});

describe('PublicImageService.list', () => {
  it('walks every image exactly once, newest first, by following the cursor', async () => {
    // Two pairs share a timestamp, so the guid tie-break is exercised at page boundaries.
    const times = ['2026-01-01T00:00:00.001Z', '2026-01-01T00:00:00.002Z', '2026-01-01T00:00:00.002Z', '2026-01-01T00:00:00.003Z', '2026-01-01T00:00:00.003Z', '2026-01-01T00:00:00.004Z', '2026-01-01T00:00:00.005Z'];
    for (const created_at of times) await images.insert(makeNewImage({ created_at }));
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await service.list({ limit: 2, ...(after !== undefined && { after }) });
      seen.push(...page.images.map((i) => i.guid));
      after = page.nextCursor;
      pages += 1;
    } while (after !== undefined && pages < 10);
    expect(pages).toBe(4);
    const expected = [...images.records.values()]
      .sort((a, b) => (a.created_at === b.created_at ? b.guid.localeCompare(a.guid) : b.created_at.localeCompare(a.created_at)))
      .map((d) => d.guid);
    expect(seen).toEqual(expected);
  });

  it('hands the repository the key the cursor encodes', async () => {
    const key = { createdAt: '2026-01-01T00:00:00.005Z', guid: '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41' };
    await service.list({ after: encodeCursor(key) });
    expect(images.listQueries.at(-1)?.after).toEqual(key);
  });

  it('has no next cursor on the last page', async () => {
    await images.insert(makeNewImage());
    const page = await service.list({ limit: 1 });
    expect(page.images).toHaveLength(1);
    expect(page.nextCursor).toBeUndefined();
  });

  it('defaults to 50 images per page', async () => {
    await service.list({});
    expect(images.listQueries.at(-1)?.limit).toBe(50);
  });

  it('normalises the tag filter like stored tags', async () => {
    const tagged = makeNewImage({ tags: ['sea'] });
    await images.insert(tagged);
    await images.insert(makeNewImage({ tags: ['land'] }));
    const page = await service.list({ tag: '  SeA ' });
    expect(images.listQueries.at(-1)?.tag).toBe('sea');
    expect(page.images.map((i) => i.guid)).toEqual([tagged.guid]);
  });

  it('filters by author', async () => {
    const bobs = makeNewImage({ author: 'bob' });
    await images.insert(bobs);
    await images.insert(makeNewImage({ author: 'alice' }));
    const page = await service.list({ author: 'bob' });
    expect(page.images.map((i) => i.guid)).toEqual([bobs.guid]);
  });
});

describe('PublicImageService content', () => {
  it('describes and streams the stored bytes, or one range of them', async () => {
    const record = makeNewImage({ byte_size: 6 });
    await images.insert(record);
    await store.put(record.filename, Buffer.from('abcdef'));
    const info = await service.getContentInfo(record.guid);
    expect(info).toEqual({
      guid: record.guid,
      filename: record.filename,
      content_type: 'image/png',
      byte_size: 6,
      sha256: record.sha256,
      created_at: record.created_at,
      object_store: 'file',
      object_key: record.filename,
    });
    expect((await readAll(await service.openContent(info))).toString()).toBe('abcdef');
    expect((await readAll(await service.openContent(info, { start: 1, end: 3 }))).toString()).toBe('bcd');
  });

  it('throws RecordNotFoundError for the content of an unknown guid', async () => {
    await expect(service.getContentInfo('3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41')).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  it('treats a row whose bytes are missing as a server fault', async () => {
    const record = makeNewImage();
    await images.insert(record);
    const info = await service.getContentInfo(record.guid);
    await expect(service.openContent(info)).rejects.toBeInstanceOf(InternalServerError);
  });
});

describe('PublicImageService content with a content cache', () => {
  async function cachedImage(bytes: string) {
    const record = makeNewImage({ byte_size: bytes.length });
    await images.insert(record);
    await store.put(record.filename, Buffer.from(bytes));
    return service.getContentInfo(record.guid);
  }

  beforeEach(() => {
    service = new PublicImageService(images, inMemoryStorage(store), new ContentCache(1024));
  });

  it('serves the bytes and their ranges from memory after the first read', async () => {
    const info = await cachedImage('abcdef');
    expect((await readAll(await service.openContent(info))).toString()).toBe('abcdef');
    // The store no longer has the file: only the cache can answer now.
    await store.remove(info.object_key);
    expect((await readAll(await service.openContent(info))).toString()).toBe('abcdef');
    expect((await readAll(await service.openContent(info, { start: 1, end: 3 }))).toString()).toBe('bcd');
  });

  it('streams an image larger than a quarter of the cache from the store every time', async () => {
    const info = await cachedImage('x'.repeat(257));
    expect((await readAll(await service.openContent(info))).length).toBe(257);
    await store.remove(info.object_key);
    await expect(service.openContent(info)).rejects.toBeInstanceOf(InternalServerError);
  });

  it('treats a row whose bytes are missing as a server fault with the cache on too', async () => {
    const record = makeNewImage();
    await images.insert(record);
    await expect(service.openContent(await service.getContentInfo(record.guid))).rejects.toBeInstanceOf(InternalServerError);
  });
});
