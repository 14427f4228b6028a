import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillImages, syntheticAuthor, syntheticTag } from '../../scripts/fill-images.js';
import { listingParams, listingSql, type ListPageQuery } from '../../src/data/image-repository.js';
import { SqliteDatabase } from '../../src/data/sqlite-database.js';

// The listing must cost the same at any catalogue size: each page is one index range scan read in
// order, never a sort of every matching row (SQLite says "USE TEMP B-TREE FOR ORDER BY" for that).
let dir: string;
let db: SqliteDatabase;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-plan-'));
  const file = join(dir, 'plan.db');
  // Enough rows, analysed, that the planner chooses as it would on a large catalogue.
  await fillImages({ kind: 'sqlite', file }, 3000);
  db = SqliteDatabase.open(file);
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const after = { createdAt: '2020-01-01T00:30:00.000Z', guid: '8f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41' };

async function planOf(query: ListPageQuery): Promise<string> {
  const rows = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${listingSql(query)}`, listingParams(query));
  return rows.map((row) => row.detail).join('\n');
}

describe('listing query plans on SQLite', () => {
  it.each<[string, ListPageQuery, string]>([
    ['the first page', { limit: 50 }, 'image_listing_idx'],
    ['a later page', { limit: 50, after }, 'image_listing_idx'],
    ['an author page', { limit: 50, author: syntheticAuthor(1) }, 'image_author_listing_idx'],
    ['a later author page', { limit: 50, author: syntheticAuthor(1), after }, 'image_author_listing_idx'],
    ['a tag page', { limit: 50, tag: syntheticTag(3) }, 'image_tag_listing_idx'],
    ['a later tag page', { limit: 50, tag: syntheticTag(3), after }, 'image_tag_listing_idx'],
    ['a tag and author page', { limit: 50, tag: syntheticTag(3), author: syntheticAuthor(2) }, 'image_tag_author_listing_idx'],
    ['a later tag and author page', { limit: 50, tag: syntheticTag(3), author: syntheticAuthor(2), after }, 'image_tag_author_listing_idx'],
  ])('reads %s in index order from %s without sorting', async (_label, query, index) => {
    const plan = await planOf(query);
    expect(plan).toMatch(new RegExp(`USING (COVERING )?INDEX ${index}\\b`));
    expect(plan).not.toContain('TEMP B-TREE');
  });

  it('looks the image rows of a tag page up by primary key', async () => {
    const plan = await planOf({ limit: 50, tag: syntheticTag(3) });
    expect(plan).toMatch(/SEARCH i USING INTEGER PRIMARY KEY/);
  });
});
