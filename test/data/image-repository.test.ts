import { beforeAll, expect, it } from 'vitest';
import { ConstraintViolationError } from '../../src/core/errors.js';
import type { ImageDetail } from '../../src/core/models/image.js';
import { SqlImageRepository, type ListPageQuery } from '../../src/data/image-repository.js';
import { describeEachEngine, useMigratedDatabase } from '../support/engines.js';
import { makeNewImage } from '../support/factories.js';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + ms).toISOString();

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let repo: SqlImageRepository;

  beforeAll(() => {
    repo = new SqlImageRepository(e.db);
  });

  async function countRows(table: 'image' | 'image_tag'): Promise<number> {
    const row = await e.db.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number(row?.n);
  }

  /** Follows nextKey until the end; returns every page's guids. */
  async function allPages(query: Omit<ListPageQuery, 'after'>): Promise<string[][]> {
    const pages: string[][] = [];
    let after: ListPageQuery['after'];
    for (;;) {
      const page = await repo.listPage({ ...query, ...(after && { after }) });
      pages.push(page.images.map((image) => image.guid));
      if (!page.nextKey) return pages;
      after = page.nextKey;
    }
  }

  /** Newest first, ties on created_at broken by guid descending: the order the API promises. */
  function expectedOrder(images: ImageDetail[]): string[] {
    return [...images]
      .sort((a, b) => (a.created_at === b.created_at ? (a.guid < b.guid ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
      .map((image) => image.guid);
  }

  it('returns the inserted image by guid with tags, nulls, unicode and millisecond timestamps intact', async () => {
    const record = makeNewImage({
      prompt: 'a fox 🦊 in Zürich, 東京',
      tags: ['night', 'fox'],
      revised_prompt: null,
      model: null,
      created_at: '2026-03-04T05:06:07.089Z',
    });
    const inserted = await repo.insert(record);
    const found = await repo.findByGuid(record.guid);
    // What insert returns without reading back is exactly what a later read finds.
    expect(found).toEqual(inserted);
    expect(found).toEqual({ ...record, updated_at: record.created_at });
    expect(found).toMatchObject({
      prompt: 'a fox 🦊 in Zürich, 東京',
      tags: ['night', 'fox'],
      model: null,
      revised_prompt: null,
      created_at: '2026-03-04T05:06:07.089Z',
      updated_at: '2026-03-04T05:06:07.089Z',
    });
  });

  it('returns undefined for an unknown guid', async () => {
    expect(await repo.findByGuid('3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41')).toBeUndefined();
    expect(await repo.findContentInfo('3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41')).toBeUndefined();
  });

  it('reads the content info of an image as the same fields findByGuid reads', async () => {
    const record = makeNewImage({ byte_size: 65536, created_at: '2026-03-04T05:06:07.089Z' });
    await repo.insert(record);
    const { guid, filename, content_type, byte_size, sha256, created_at, object_store, object_key } = (await repo.findByGuid(record.guid))!;
    expect(await repo.findContentInfo(record.guid)).toEqual({ guid, filename, content_type, byte_size, sha256, created_at, object_store, object_key });
    expect(byte_size).toBe(65536);
  });

  it('rejects a duplicate guid with ConstraintViolationError and keeps one row', async () => {
    const first = makeNewImage();
    await repo.insert(first);
    const again = makeNewImage({ guid: first.guid });
    await expect(repo.insert(again)).rejects.toBeInstanceOf(ConstraintViolationError);
    expect(await countRows('image')).toBe(1);
  });

  it('leaves no image row when a tag row of the same insert fails', async () => {
    // The duplicate tag violates image_tag's primary key after the image row was written.
    await expect(repo.insert(makeNewImage({ tags: ['same', 'same'] }))).rejects.toBeInstanceOf(ConstraintViolationError);
    expect(await countRows('image')).toBe(0);
    expect(await countRows('image_tag')).toBe(0);
  });

  it('rolls back every statement of a transaction that throws', async () => {
    const record = makeNewImage();
    await expect(
      e.db.transaction(async (tx) => {
        await tx.run(
          `INSERT INTO image (guid, prompt, filename, object_key, tags, author, content_type, byte_size, sha256, created_at, updated_at)
           VALUES (:guid, 'p', :filename, :filename, '[]', 'alice', 'image/png', 1, :sha, :t, :t)`,
          { guid: record.guid, filename: record.filename, sha: record.sha256, t: '2026-01-01 00:00:00.000' },
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await repo.findByGuid(record.guid)).toBeUndefined();
  });

  it('lists newest first and pages through every row exactly once, ties on created_at included', async () => {
    const inserted: ImageDetail[] = [];
    // 23 rows over 8 distinct timestamps: most pages cut through a group of equal created_at values.
    for (let i = 0; i < 23; i += 1) inserted.push(await repo.insert(makeNewImage({ created_at: at(Math.floor(i / 3)) })));
    const pages = await allPages({ limit: 5 });
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat()).toEqual(expectedOrder(inserted));
  });

  it('returns no next key when the last page is exactly full', async () => {
    for (let i = 0; i < 4; i += 1) await repo.insert(makeNewImage({ created_at: at(i) }));
    const first = await repo.listPage({ limit: 4 });
    expect(first.images).toHaveLength(4);
    expect(first.nextKey).toBeUndefined();
  });

  it('filters by tag, by author and by both, paging each in order', async () => {
    const inserted: ImageDetail[] = [];
    for (let i = 0; i < 30; i += 1) {
      inserted.push(
        await repo.insert(
          makeNewImage({
            author: i % 2 === 0 ? 'alice' : 'bob',
            tags: i % 3 === 0 ? ['cat', 'night'] : ['dog'],
            created_at: at(Math.floor(i / 4)),
          }),
        ),
      );
    }
    const cats = inserted.filter((image) => image.tags.includes('cat'));
    const bobs = inserted.filter((image) => image.author === 'bob');
    const bobCats = cats.filter((image) => image.author === 'bob');
    expect((await allPages({ limit: 3, tag: 'cat' })).flat()).toEqual(expectedOrder(cats));
    expect((await allPages({ limit: 4, author: 'bob' })).flat()).toEqual(expectedOrder(bobs));
    expect((await allPages({ limit: 2, tag: 'cat', author: 'bob' })).flat()).toEqual(expectedOrder(bobCats));
    expect((await repo.listPage({ limit: 10, tag: 'unknown' })).images).toEqual([]);
  });

  it('replaces the tag set, advances updated_at, and the tag filter follows', async () => {
    const image = await repo.insert(makeNewImage({ tags: ['old', 'keep'], created_at: at(0) }));
    const updated = await repo.updateTags(image.guid, ['keep', 'new'], at(5000));
    expect(updated).toMatchObject({ guid: image.guid, tags: ['keep', 'new'], created_at: at(0), updated_at: at(5000) });
    expect((await repo.findByGuid(image.guid))?.tags).toEqual(['keep', 'new']);
    expect((await repo.listPage({ limit: 10, tag: 'old' })).images).toEqual([]);
    expect((await repo.listPage({ limit: 10, tag: 'new' })).images.map((i) => i.guid)).toEqual([image.guid]);
    expect((await repo.listPage({ limit: 10, tag: 'keep' })).images.map((i) => i.updated_at)).toEqual([at(5000)]);
  });

  it('returns undefined when updating the tags of an unknown guid', async () => {
    expect(await repo.updateTags('3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41', ['x'], at(1))).toBeUndefined();
  });

  it('deletes an image with its tags, and a second delete finds nothing', async () => {
    const kept = await repo.insert(makeNewImage({ tags: ['cat'] }));
    const doomed = await repo.insert(makeNewImage({ tags: ['cat', 'gone'] }));
    expect(await repo.deleteByGuid(doomed.guid)).toBe(true);
    expect(await repo.findByGuid(doomed.guid)).toBeUndefined();
    expect((await repo.listPage({ limit: 10, tag: 'cat' })).images.map((i) => i.guid)).toEqual([kept.guid]);
    expect(await countRows('image_tag')).toBe(1);
    expect(await repo.deleteByGuid(doomed.guid)).toBe(false);
  });

  it('reports which object keys of one store a row names', async () => {
    const image = await repo.insert(makeNewImage());
    expect(await repo.existingObjectKeys('file', [image.object_key, 'orphan.png'])).toEqual(new Set([image.object_key]));
    // The same key in the other store is not this row's.
    expect(await repo.existingObjectKeys('s3', [image.object_key])).toEqual(new Set());
    expect(await repo.existingObjectKeys('file', [])).toEqual(new Set());
  });

  it('stores and returns where the bytes are', async () => {
    const image = await repo.insert(makeNewImage({ object_store: 's3', object_key: 'img/x.png' }));
    expect(await repo.findByGuid(image.guid)).toMatchObject({ object_store: 's3', object_key: 'img/x.png' });
    expect(await repo.locationOf(image.guid)).toEqual({ object_store: 's3', object_key: 'img/x.png' });
    expect(await repo.locationOf('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('refuses a second row naming the same object, so deleting one image can never delete another\'s bytes', async () => {
    await repo.insert(makeNewImage({ object_store: 's3', object_key: 'img/shared.png' }));
    await expect(repo.insert(makeNewImage({ object_store: 's3', object_key: 'img/shared.png' }))).rejects.toBeInstanceOf(ConstraintViolationError);
  });

  it('lists the images not in a store by guid, in pages, and counts images per store', async () => {
    const inFile = await Promise.all([1, 2, 3].map(() => repo.insert(makeNewImage())));
    await repo.insert(makeNewImage({ object_store: 's3', object_key: 'img/already.png' }));
    const guids = inFile.map((image) => image.guid).sort();
    const first = await repo.listNotInStore('s3', undefined, 2);
    expect(first.map((row) => row.guid)).toEqual(guids.slice(0, 2));
    expect(first[0]).toEqual({
      guid: guids[0],
      filename: inFile.find((image) => image.guid === guids[0])!.filename,
      sha256: 'a'.repeat(64),
      location: { object_store: 'file', object_key: inFile.find((image) => image.guid === guids[0])!.object_key },
    });
    expect((await repo.listNotInStore('s3', first[1]!.guid, 2)).map((row) => row.guid)).toEqual(guids.slice(2));
    expect(await repo.countByStore()).toEqual({ file: 3, s3: 1 });
  });

  it('moves a row only while it still names the old location (compare-and-set)', async () => {
    const image = await repo.insert(makeNewImage());
    const from = { object_store: 'file' as const, object_key: image.object_key };
    const to = { object_store: 's3' as const, object_key: `img/${image.filename}` };
    expect(await repo.moveLocation(image.guid, from, to)).toBe(true);
    expect(await repo.locationOf(image.guid)).toEqual(to);
    // A second run with the stale location changes nothing.
    expect(await repo.moveLocation(image.guid, from, { object_store: 's3', object_key: 'img/other.png' })).toBe(false);
    expect(await repo.locationOf(image.guid)).toEqual(to);
  });
});
