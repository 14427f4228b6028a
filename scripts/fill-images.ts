/**
 * Fills a database with N synthetic image rows, fast, for the listing benchmarks and query-plan checks.
 *
 *   npx tsx scripts/fill-images.ts --database sqlite:/tmp/bench/pixyproxy.db --rows 1000000
 *   npx tsx scripts/fill-images.ts --database mysql://root@127.0.0.1:3306/pixyproxy --rows 100000
 *
 * The rows have NO image files: they exist to be listed and looked up (detail, list, tag and author
 * filters), never downloaded. GET .../content on one of them answers 500 (bytes missing from the store).
 * The benchmark's content cases use a separate, real image it adds through the normal store.
 *
 * MySQL rows go through the database port as multi-row INSERTs in large transactions. SQLite rows go
 * straight to better-sqlite3 (one prepared statement, one transaction per batch, no journal on disk during the
 * load): the port's per-call overhead would dominate a million single-row inserts. Each row gets 2 of TAG_COUNT tags and one of AUTHOR_COUNT authors,
 * so every tag filter matches ~2/TAG_COUNT of the rows, every author ~1/AUTHOR_COUNT. Prompts hold
 * SEARCH_COMMON_TERM in 1 row of 5 and SEARCH_RARE_TERM in 1 row of 10,000, for the search cases; they
 * are indexed like a created image's (FTS5 triggers on SQLite, `search_text` and FULLTEXT on MySQL).
 *
 * The MySQL FULLTEXT index is kept up to date row by row during the load. Dropping it for the load and
 * adding it back afterwards was faster (44 s against 55 s for 100,000 rows on MariaDB 10.11) but left
 * an index that matched nothing: the InnoDB table keeps the hidden FTS_DOC_ID column of the dropped
 * index, and the rebuilt index found no word in the rows inserted meanwhile.
 */
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, type DatabaseConfig } from '../src/core/config.js';
import type { Database, Queryable, SqlValue } from '../src/data/database.js';
import { migrate } from '../src/data/migrator.js';
import { openDatabase } from '../src/data/open-database.js';

export const TAG_COUNT = 10;
export const AUTHOR_COUNT = 5;
export const syntheticTag = (n: number) => `tag-${n}`;
export const syntheticAuthor = (n: number) => `author-${n}`;

/** A word in 1 prompt of 5 (the search target's "term that matches 20% of the rows"). */
export const SEARCH_COMMON_TERM = 'lighthouse';
/** A word in 1 prompt of 10,000. */
export const SEARCH_RARE_TERM = 'zeppelin';

const ROWS_PER_STATEMENT = 500;
const ROWS_PER_TRANSACTION = 50_000;
const IMAGE_COLUMNS = ['id', 'guid', 'prompt', 'filename', 'object_store', 'object_key', 'tags', 'author', 'content_type', 'byte_size', 'sha256', 'model', 'size', 'created_at', 'updated_at'];
// MySQL keeps the text its FULLTEXT index reads in its own column, written on insert like the repository does.
const MYSQL_IMAGE_COLUMNS = [...IMAGE_COLUMNS, 'search_text'];
const TAG_COLUMNS = ['image_id', 'tag', 'author', 'created_at', 'guid'];
// Synthetic history: one image per second going forward from here, so real images created now are newer.
const FIRST_CREATED_AT = Date.UTC(2020, 0, 1);

function multiRowInsert(table: string, columns: readonly string[], rows: number): string {
  const tuples = Array.from({ length: rows }, (_, r) => `(${columns.map((c) => `:${c}_${r}`).join(', ')})`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`;
}

const SUBJECTS = ['harbour', 'meadow', 'forest', 'city street', 'desert', 'glacier', 'village', 'canyon', 'river', 'market'];
const STYLES = ['oil painting', 'watercolour', 'pencil sketch', 'photograph', 'woodcut', 'pixel art', 'gouache', 'charcoal'];
const TIMES = ['at dawn', 'at noon', 'at dusk', 'at night', 'in the rain', 'in fog', 'in snow', 'under a full moon'];

/** The prompt of synthetic row `id`: SEARCH_COMMON_TERM in 1 row of 5, SEARCH_RARE_TERM in 1 row of 10,000. */
export function syntheticPrompt(id: number): string {
  const parts = [
    id % 5 === 0 ? `a ${SEARCH_COMMON_TERM} above a ${SUBJECTS[id % 10]}` : `a ${SUBJECTS[id % 10]} with a bridge`,
    TIMES[Math.floor(id / 10) % 8],
    STYLES[Math.floor(id / 80) % 8],
  ];
  if (id % 10_000 === 7) parts.push(`with a ${SEARCH_RARE_TERM} overhead`);
  return `synthetic image ${id}: ${parts.join(', ')}`;
}

function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

interface Batch {
  images: Record<string, SqlValue>[];
  tags: Record<string, SqlValue>[];
}

function makeBatch(firstId: number, count: number): Batch {
  const batch: Batch = { images: [], tags: [] };
  for (let id = firstId; id < firstId + count; id++) {
    const guid = randomUUID();
    const first = id % TAG_COUNT;
    const second = (first + 1 + (Math.floor(id / TAG_COUNT) % (TAG_COUNT - 1))) % TAG_COUNT;
    const tags = [syntheticTag(first), syntheticTag(second)].sort();
    const author = syntheticAuthor(Math.floor(id / 3) % AUTHOR_COUNT);
    const createdAt = sqlTime(FIRST_CREATED_AT + id * 1000);
    const prompt = syntheticPrompt(id);
    batch.images.push({
      id,
      guid,
      prompt,
      search_text: prompt,
      filename: `${guid}.png`,
      object_store: 'file',
      object_key: `${guid}.png`,
      tags: JSON.stringify(tags),
      author,
      content_type: 'image/png',
      byte_size: 1024,
      sha256: '0'.repeat(64),
      model: 'synthetic',
      size: '512x512',
      created_at: createdAt,
      updated_at: createdAt,
    });
    for (const tag of tags) batch.tags.push({ image_id: id, tag, author, created_at: createdAt, guid });
  }
  return batch;
}

async function insertRows(tx: Queryable, table: string, columns: readonly string[], rows: Record<string, SqlValue>[]) {
  for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(offset, offset + ROWS_PER_STATEMENT);
    const params: Record<string, SqlValue> = {};
    chunk.forEach((row, r) => {
      for (const column of columns) params[`${column}_${r}`] = row[column] ?? null;
    });
    await tx.run(multiRowInsert(table, columns, chunk.length), params);
  }
}

export interface FillReport {
  inserted: number;
  total: number;
  seconds: number;
}

export type FillTarget = { kind: 'sqlite'; file: string } | { kind: 'port'; db: Database };

function fillSqliteFile(file: string, rows: number, onProgress?: (done: number) => void): number {
  const db = new BetterSqlite3(file);
  try {
    // A bulk load into a scratch database: no journal on disk, no fsync, a page cache that holds the random
    // guid indexes. WAL is switched back on afterwards, as the server expects it.
    // MEMORY, not OFF: better-sqlite3 opens connections in SQLite's defensive mode, which refuses OFF
    // (the pragma then silently leaves the file in WAL, and every page is written twice).
    const mode = db.pragma('journal_mode = MEMORY', { simple: true });
    if (mode !== 'memory') throw new Error(`could not set journal_mode = MEMORY for the load (still ${String(mode)})`);
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288');
    const insertImage = db.prepare(`INSERT INTO image (${IMAGE_COLUMNS.join(', ')}) VALUES (${IMAGE_COLUMNS.map((c) => `@${c}`).join(', ')})`);
    const insertTag = db.prepare(`INSERT INTO image_tag (${TAG_COLUMNS.join(', ')}) VALUES (${TAG_COLUMNS.map((c) => `@${c}`).join(', ')})`);
    const maxId = Number((db.prepare('SELECT MAX(id) AS max_id FROM image').get() as { max_id: number | null }).max_id ?? 0);
    // The search index's insert trigger (migration 005) is set aside during the load and the index
    // rebuilt once after it: one pass over the table is faster than indexing row by row.
    const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'image_fts_after_insert'").get() as { sql: string } | undefined;
    if (trigger !== undefined) db.exec('DROP TRIGGER image_fts_after_insert');
    const load = db.transaction((batch: Batch) => {
      for (const { search_text: _, ...image } of batch.images) insertImage.run(image);
      for (const tag of batch.tags) insertTag.run(tag);
    });
    for (let done = 0; done < rows; done += ROWS_PER_TRANSACTION) {
      load(makeBatch(maxId + 1 + done, Math.min(ROWS_PER_TRANSACTION, rows - done)));
      onProgress?.(Math.min(done + ROWS_PER_TRANSACTION, rows));
    }
    if (trigger !== undefined) {
      db.exec("INSERT INTO image_fts (image_fts) VALUES ('rebuild')");
      db.exec(trigger.sql);
    }
    db.exec('ANALYZE');
    db.pragma('journal_mode = WAL');
    return Number((db.prepare('SELECT COUNT(*) AS n FROM image').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

async function fillThroughPort(db: Database, rows: number, onProgress?: (done: number) => void): Promise<number> {
  const maxRow = await db.get<{ max_id: number | string | null }>('SELECT MAX(id) AS max_id FROM image');
  const firstId = Number(maxRow?.max_id ?? 0) + 1;
  const mysql = db.dialect === 'mysql';
  for (let done = 0; done < rows; done += ROWS_PER_TRANSACTION) {
    const batch = makeBatch(firstId + done, Math.min(ROWS_PER_TRANSACTION, rows - done));
    await db.transaction(async (tx) => {
      await insertRows(tx, 'image', mysql ? MYSQL_IMAGE_COLUMNS : IMAGE_COLUMNS, batch.images);
      await insertRows(tx, 'image_tag', TAG_COLUMNS, batch.tags);
    });
    onProgress?.(Math.min(done + ROWS_PER_TRANSACTION, rows));
  }
  await db.run(db.dialect === 'sqlite' ? 'ANALYZE' : 'ANALYZE TABLE image, image_tag');
  const count = await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM image');
  return Number(count?.n ?? 0);
}

/**
 * Appends `rows` synthetic images (ids after the current maximum) to a migrated database. An SQLite
 * file must not be open elsewhere while it fills.
 */
export async function fillImages(config: DatabaseConfig, rows: number, onProgress?: (done: number) => void): Promise<FillReport> {
  const started = performance.now();
  // A large transaction with its full-text index updates, or ANALYZE TABLE over a million rows, can take
  // longer than a request's query timeout on a busy machine.
  const db = await openDatabase(config.kind === 'mysql' ? { ...config, queryTimeoutMs: 3_600_000 } : config);
  let total: number;
  try {
    await migrate(db);
    if (config.kind !== 'sqlite' || config.file === ':memory:') total = await fillThroughPort(db, rows, onProgress);
  } finally {
    await db.close();
  }
  if (config.kind === 'sqlite' && config.file !== ':memory:') total = fillSqliteFile(config.file, rows, onProgress);
  return { inserted: rows, total: total!, seconds: (performance.now() - started) / 1000 };
}

async function main() {
  const { values } = parseArgs({
    options: { database: { type: 'string' }, rows: { type: 'string', default: '1000' } },
  });
  const rows = Number(values.rows);
  if (!values.database || !Number.isInteger(rows) || rows < 1) {
    console.error('usage: tsx scripts/fill-images.ts --database sqlite:FILE|mysql://USER:PASS@HOST:PORT/DB --rows N');
    process.exit(2);
  }
  const config = loadConfig({ DATABASE_URL: values.database });
  const report = await fillImages(config.database, rows, (done) => process.stderr.write(`\r${done} / ${rows}`));
  process.stderr.write('\n');
  console.log(`inserted ${report.inserted} rows (${report.total} in total) in ${report.seconds.toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
