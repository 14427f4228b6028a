import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlImageRepository, type ListPageQuery } from '../../src/data/image-repository.js';
import { migrate } from '../../src/data/migrator.js';
import { SqliteDatabase } from '../../src/data/sqlite-database.js';
import { makeNewImage } from '../support/factories.js';

let dir: string;
let db: SqliteDatabase;
let images: SqlImageRepository;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-listing-'));
  db = SqliteDatabase.open(join(dir, 'listing.db'));
  await migrate(db);
  images = new SqlImageRepository(db);
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every guid the listing yields for a query, following nextKey page by page. */
async function allPages(query: Omit<ListPageQuery, 'after'>): Promise<string[]> {
  const guids: string[] = [];
  let after: ListPageQuery['after'];
  for (let pages = 0; pages < 100; pages++) {
    const page = await images.listPage({ ...query, ...(after && { after }) });
    guids.push(...page.images.map((image) => image.guid));
    if (page.nextKey === undefined) return guids;
    after = page.nextKey;
  }
  throw new Error('the listing did not end');
}

describe('listing with both tag and author filters', () => {
  it('returns exactly the images having the tag by the author, newest first, across pages', async () => {
    const expected: string[] = [];
    for (let i = 0; i < 24; i++) {
      const author = i % 2 === 0 ? 'alice' : 'bob';
      const tags = i % 3 === 0 ? ['sea', 'sky'] : ['sky'];
      const record = makeNewImage({ author, tags });
      await images.insert(record);
      if (author === 'alice' && tags.includes('sea')) expected.unshift(record.guid);
    }
    expect(expected).toHaveLength(4);
    expect(await allPages({ limit: 3, tag: 'sea', author: 'alice' })).toEqual(expected);
  });

  it('finds an image by tag and author after its tags were replaced', async () => {
    const record = makeNewImage({ author: 'carol', tags: ['old'] });
    await images.insert(record);
    await images.updateTags(record.guid, ['new'], new Date().toISOString());
    expect(await allPages({ limit: 10, tag: 'new', author: 'carol' })).toEqual([record.guid]);
    expect(await allPages({ limit: 10, tag: 'old', author: 'carol' })).toEqual([]);
  });
});
