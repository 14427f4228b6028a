import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database, SqlParams } from '../../src/data/database.js';
import { SqlImageRepository, type ListingKey, type ListPageQuery } from '../../src/data/image-repository.js';
import { migrate } from '../../src/data/migrator.js';
import { toSqlTime } from '../../src/data/sql-time.js';
import { describeEachEngine, type EngineDatabase } from '../support/engines.js';

// Enough rows that MariaDB's cost model prefers the index: below ~2,000 rows it sorts the whole
// (tiny) table instead, which is cheaper there and irrelevant to how listing scales.
const ROWS = 4000;
const BATCH = 250;
const AUTHORS = ['alice', 'bob', 'carol', 'dave'];

/** One step of a query plan, reduced to what the assertions need. */
interface PlanStep {
  table: string;
  index: string | null;
  /** Scans the whole table or sorts/buffers rows instead of reading them in index order. */
  wasteful: boolean;
}

async function planOf(db: Database, sql: string, params: SqlParams): Promise<PlanStep[]> {
  if (db.dialect === 'mysql') {
    const rows = await db.all<{ table: string; type: string; key: string | null; Extra: string | null }>(`EXPLAIN ${sql}`, params);
    return rows.map((row) => ({
      table: row.table,
      index: row.key,
      wasteful: row.type === 'ALL' || /filesort|temporary/i.test(row.Extra ?? ''),
    }));
  }
  const rows = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
  return rows.map((row) => ({
    table: /^(?:SCAN|SEARCH) (\w+)/.exec(row.detail)?.[1] ?? row.detail,
    index: /USING (?:COVERING )?INDEX (\w+)|USING INTEGER PRIMARY KEY/.exec(row.detail)?.[1] ?? (/PRIMARY KEY/.test(row.detail) ? 'PRIMARY' : null),
    wasteful: /TEMP B-TREE/.test(row.detail) || /^SCAN \w+$/.test(row.detail),
  }));
}

/** Captures the SQL and parameters the repository sends, so the plans checked are those of the real queries. */
function recording(db: Database): { db: Database; last: () => { sql: string; params: SqlParams } } {
  let last: { sql: string; params: SqlParams } | undefined;
  const proxy = Object.create(db) as Database;
  // Listing pages are read as array rows (values()).
  proxy.values = <T extends readonly unknown[]>(sql: string, params: SqlParams = {}) => {
    last = { sql, params };
    return db.values<T>(sql, params);
  };
  proxy.all = <T>(sql: string, params: SqlParams = {}) => {
    last = { sql, params };
    return db.all<T>(sql, params);
  };
  // The search-plan count goes through get(); it is not the query whose plan is checked.
  proxy.get = <T>(sql: string, params: SqlParams = {}) => db.get<T>(sql, params);
  return { db: proxy, last: () => last ?? { sql: '', params: {} } };
}

/** Bulk-inserts ROWS images (two per second, four authors) and their tags: every tenth is a cat. */
async function fill(db: Database): Promise<void> {
  for (let start = 0; start < ROWS; start += BATCH) {
    const params: Record<string, string | number> = {};
    const values: string[] = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i += 1) {
      const guid = randomUUID();
      Object.assign(params, {
        [`g${i}`]: guid,
        [`p${i}`]: `a lighthouse at dusk, study ${i}`,
        [`f${i}`]: `${guid}.png`,
        [`a${i}`]: AUTHORS[i % AUTHORS.length] ?? 'alice',
        [`t${i}`]: toSqlTime(new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 1000).toISOString()),
      });
      values.push(`(:g${i}, :p${i}, :f${i}, :f${i}, '[]', :a${i}, 'image/png', 100, :sha, :t${i}, :t${i})`);
    }
    await db.run(
      `INSERT INTO image (guid, prompt, filename, object_key, tags, author, content_type, byte_size, sha256, created_at, updated_at)
       VALUES ${values.join(', ')}`,
      { ...params, sha: 'a'.repeat(64) },
    );
  }
  await db.run(`INSERT INTO image_tag (image_id, tag, author, created_at, guid)
    SELECT id, CASE WHEN id % 10 = 0 THEN 'cat' ELSE 'dog' END, author, created_at, guid FROM image`);
}

describeEachEngine((engine) => {
  let e: EngineDatabase;
  let repo: SqlImageRepository;
  let recorder: ReturnType<typeof recording>;
  let after: ListingKey;

  beforeAll(async () => {
    e = await engine.open();
    await migrate(e.db);
    await fill(e.db);
    if (engine.name === 'mysql') await e.db.all('ANALYZE TABLE image, image_tag');
    else await e.db.run('ANALYZE');
    const writer = new SqlImageRepository(e.db);
    recorder = recording(e.db);
    repo = new SqlImageRepository(recorder.db);
    const middle = await writer.listPage({ limit: ROWS / 2 });
    if (!middle.nextKey) throw new Error('expected a second page');
    after = middle.nextKey;
  }, 120_000);
  afterAll(() => e.close());

  const cases: Array<[string, Omit<ListPageQuery, 'after' | 'limit'>, string]> = [
    ['the plain listing', {}, 'image_listing_idx'],
    ['the author filter', { author: 'bob' }, 'image_author_listing_idx'],
    ['the tag filter', { tag: 'cat' }, 'image_tag_listing_idx'],
    ['the tag and author filters', { tag: 'cat', author: 'bob' }, 'image_tag_author_listing_idx'],
  ];

  // SQLite's planner, left alone, reads every full-text match and sorts them; past the threshold the
  // repository reads the newest rows from the listing index and asks the full-text index only for
  // their id range, so a common word costs a window of rows, not the whole match list.
  const searchCases: Array<[string, Omit<ListPageQuery, 'after' | 'limit'>, string]> = [
    ['a common search word', {}, 'image_listing_idx'],
    ['a common search word with the author filter', { author: 'bob' }, 'image_author_listing_idx'],
    ['a common search word with the tag filter', { tag: 'cat' }, 'image_tag_listing_idx'],
  ];
  for (const [name, filters, index] of searchCases) {
    it.skipIf(engine.name !== 'sqlite')(`reads ${name} from the newest rows of ${index} once matches pass the search-first threshold`, async () => {
      await new SqlImageRepository(recorder.db, 100).listPage({ limit: 50, ...filters, search: { words: ['lighthouse'], phrases: [] } });
      const { sql, params } = recorder.last();
      const details = (await e.db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row) => row.detail);
      expect(details).toContain('MATERIALIZE w');
      expect(details.some((d) => d.includes(`USING`) && d.includes(index))).toBe(true);
      // The full-text index is asked for a rowid range (FTS5's `><` constraint), never a whole table scanned.
      expect(details.some((d) => /image_fts VIRTUAL TABLE INDEX \d+:M\d*></.test(d))).toBe(true);
      expect(details.filter((d) => /^SCAN (image|image_tag) *$/.test(d))).toEqual([]);
    });
  }

  it.skipIf(engine.name !== 'sqlite')('reads a rare search word from the full-text index and sorts only its matches', async () => {
    await repo.listPage({ limit: 50, search: { words: ['study'], phrases: [['study', '7']] } });
    const { sql, params } = recorder.last();
    const plan = await planOf(e.db, sql, params);
    expect(plan.some((step) => step.table === 'image_fts')).toBe(true);
    expect(plan.some((step) => step.index === 'image_listing_idx')).toBe(false);
  });

  for (const [name, filters, index] of cases) {
    for (const withCursor of [false, true]) {
      it(`reads ${name} ${withCursor ? 'after a cursor' : 'from the top'} in ${index} order, with no sort and no table scan`, async () => {
        await repo.listPage({ limit: 50, ...filters, ...(withCursor && { after }) });
        const { sql, params } = recorder.last();
        const plan = await planOf(e.db, sql, params);
        expect(plan.filter((step) => step.wasteful)).toEqual([]);
        expect(plan[0]?.index).toBe(index);
      });
    }
  }
});
