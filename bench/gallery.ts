/**
 * `npm run bench:gallery`: the two read paths the gallery page adds, measured on this machine.
 *
 *   npm run bench:gallery                                  # search at 1k and 1M rows on SQLite and MariaDB, thumbnails
 *   npm run bench:gallery -- --rows 1000,100000            # other catalogue sizes
 *   npm run bench:gallery -- --no-mysql --no-thumbnails    # SQLite search only (--no-sqlite: MariaDB only)
 *
 * Search: `GET /image?q=TERM&limit=50` for a rare term (1 row in 10,000) and a common one (1 row in
 * 5, the issue's 20% case), alone and with a tag filter, one request at a time after a warm-up,
 * against the real app (composition root + listen) in this process; p50/p90/max in ms. The rows are
 * written straight into the tables (as scripts/fill-images.ts does), then the search index is built
 * by migration 005 itself, so its time on existing rows is reported too. Databases are kept in the OS
 * temp dir (pixyproxy-bench-gallery/) and reused when they already hold the rows.
 *
 * Thumbnails: one 1024x1024 original; the first request per format (made with sharp and stored), then
 * the stored variant under `wrk` (16 connections, 5 s) when wrk is installed.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { openContext } from '../src/cli/compose.js';
import { loadConfig, type Config } from '../src/core/config.js';
import type { Database, SqlValue } from '../src/data/database.js';
import { searchTextOf } from '../src/data/image-repository.js';
import { migrate } from '../src/data/migrator.js';
import { MIGRATIONS } from '../src/data/migrations/index.js';
import { openDatabase } from '../src/data/open-database.js';
import { silentLogger } from '../src/core/service-logger.js';
import { LocalImageGenerator } from '../src/service/generation/index.js';
import { buildApp } from '../src/web/app.js';
import { mariadbBinary, startMariadb } from './mariadb-server.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000,1000000' },
    requests: { type: 'string', default: '40' },
    'no-mysql': { type: 'boolean', default: false },
    'no-sqlite': { type: 'boolean', default: false },
    'no-search': { type: 'boolean', default: false },
    'no-thumbnails': { type: 'boolean', default: false },
  },
});
const BENCH_DIR = join(tmpdir(), 'pixyproxy-bench-gallery');
const REQUESTS = Number(args.requests);
const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

const RARE = 'zeppelin';
const COMMON = 'lighthouse';
const SUBJECTS = ['harbour', 'meadow', 'forest', 'city street', 'desert', 'glacier', 'village', 'canyon', 'river', 'market'];
const STYLES = ['oil painting', 'watercolour', 'pencil sketch', 'photograph', 'woodcut', 'pixel art', 'gouache', 'charcoal'];
const TIMES = ['at dawn', 'at noon', 'at dusk', 'at night', 'in the rain', 'in fog', 'in snow', 'under a full moon'];

/** Prompt of synthetic row `id`: COMMON in 1 row of 5, RARE in 1 row of 10,000. */
function promptOf(id: number): string {
  const parts = [
    id % 5 === 0 ? `a ${COMMON} above a ${SUBJECTS[id % 10]}` : `a ${SUBJECTS[id % 10]} with a bridge`,
    TIMES[Math.floor(id / 10) % 8],
    STYLES[Math.floor(id / 80) % 8],
  ];
  if (id % 10_000 === 7) parts.push(`with a ${RARE} overhead`);
  return `${parts.join(', ')}, no. ${id}`;
}
const tagOf = (id: number) => `tag-${id % 10}`;

const IMAGE_COLUMNS = ['id', 'guid', 'prompt', 'filename', 'object_store', 'object_key', 'tags', 'author', 'content_type', 'byte_size', 'sha256', 'model', 'size', 'created_at', 'updated_at'];
const TAG_COLUMNS = ['image_id', 'tag', 'author', 'created_at', 'guid'];
const FIRST_CREATED_AT = Date.UTC(2020, 0, 1);

function rowOf(id: number) {
  const guid = randomUUID();
  const createdAt = new Date(FIRST_CREATED_AT + id * 1000).toISOString().replace('T', ' ').replace('Z', '');
  const tag = tagOf(id);
  return {
    image: {
      id, guid, prompt: promptOf(id), filename: `${guid}.png`, object_store: 'file', object_key: `${guid}.png`, tags: JSON.stringify([tag]), author: `author-${id % 5}`,
      content_type: 'image/png', byte_size: 1024, sha256: '0'.repeat(64), model: 'synthetic', size: '512x512',
      created_at: createdAt, updated_at: createdAt,
    } as Record<string, SqlValue>,
    tag: { image_id: id, tag, author: `author-${id % 5}`, created_at: createdAt, guid } as Record<string, SqlValue>,
  };
}

/** Fills an SQLite file up to the search migration, then applies it: the index build is timed. */
async function fillSqlite(file: string, rows: number): Promise<{ fillSeconds: number; indexSeconds: number }> {
  const before = MIGRATIONS.filter((m) => m.version < 5);
  let db = await openDatabase({ kind: 'sqlite', file });
  await migrate(db, before);
  await db.close();
  const started = performance.now();
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = OFF');
  raw.pragma('synchronous = OFF');
  raw.pragma('cache_size = -524288');
  const insertImage = raw.prepare(`INSERT INTO image (${IMAGE_COLUMNS.join(', ')}) VALUES (${IMAGE_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const insertTag = raw.prepare(`INSERT INTO image_tag (${TAG_COLUMNS.join(', ')}) VALUES (${TAG_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const load = raw.transaction((first: number, count: number) => {
    for (let id = first; id < first + count; id++) {
      const row = rowOf(id);
      insertImage.run(row.image);
      insertTag.run(row.tag);
    }
  });
  for (let done = 0; done < rows; done += 50_000) load(done + 1, Math.min(50_000, rows - done));
  raw.exec('ANALYZE');
  raw.pragma('journal_mode = WAL');
  raw.close();
  const fillSeconds = (performance.now() - started) / 1000;
  db = await openDatabase({ kind: 'sqlite', file });
  const indexing = performance.now();
  await migrate(db);
  await db.close();
  return { fillSeconds, indexSeconds: (performance.now() - indexing) / 1000 };
}

/** Fills a MySQL database up to the search migration with multi-row INSERTs, then applies it. */
async function fillMysql(db: Database, rows: number): Promise<{ fillSeconds: number; indexSeconds: number }> {
  await migrate(db, MIGRATIONS.filter((m) => m.version < 5));
  const started = performance.now();
  const PER_STATEMENT = 500;
  for (let done = 0; done < rows; done += PER_STATEMENT) {
    const batch = Array.from({ length: Math.min(PER_STATEMENT, rows - done) }, (_, n) => rowOf(done + n + 1));
    for (const [table, columns, key] of [['image', IMAGE_COLUMNS, 'image'], ['image_tag', TAG_COLUMNS, 'tag']] as const) {
      const params: Record<string, SqlValue> = {};
      const tuples = batch.map((row, r) => {
        for (const column of columns) params[`${column}_${r}`] = row[key][column] ?? null;
        return `(${columns.map((c) => `:${c}_${r}`).join(', ')})`;
      });
      await db.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    }
    if (done % 100_000 === 0) log(`    ${done} / ${rows}`);
  }
  await db.run('ANALYZE TABLE image, image_tag');
  const fillSeconds = (performance.now() - started) / 1000;
  const indexing = performance.now();
  await migrate(db);
  return { fillSeconds, indexSeconds: (performance.now() - indexing) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sequential requests after a warm-up; latency in ms as seen by a client on loopback. */
async function latency(url: string, headers: Record<string, string> = {}): Promise<{ p50: number; p90: number; max: number; count: number }> {
  let count = 0;
  for (let i = 0; i < 3; i++) {
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    count = ((await response.json()) as unknown[]).length;
  }
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p90: percentile(times, 90), max: times.at(-1)!, count };
}

async function searchCases(engine: string, config: Config, rows: number, fill: { fillSeconds: number; indexSeconds: number } | undefined) {
  const context = await openContext(config, silentLogger);
  const app = await buildApp(context.services, { createRateLimit: config.createRateLimit });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    if (fill) out(`| ${engine} | ${rows} | fill ${fill.fillSeconds.toFixed(1)} s; migration 005 indexed the existing rows in ${fill.indexSeconds.toFixed(1)} s | | | | |`);
    const cases: [string, string][] = [
      [`rare term (1 in 10,000)`, `q=${RARE}`],
      [`common term (1 in 5)`, `q=${COMMON}`],
      [`common term + tag`, `q=${COMMON}&tag=tag-0`],
      [`two common words`, `q=${COMMON}%20dusk`],
      [`phrase`, `q=%22${COMMON}%20above%22`],
    ];
    for (const [name, query] of cases) {
      const result = await latency(`${base}/image?${query}&limit=50`);
      out(`| ${engine} | ${rows} | ${name} | ${result.count} | ${result.p50.toFixed(1)} | ${result.p90.toFixed(1)} | ${result.max.toFixed(1)} |`);
    }
  } finally {
    await app.close();
    await context.close();
  }
}

async function countRows(config: Config): Promise<number> {
  const db = await openDatabase(config.database);
  try {
    const row = await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM image').catch(() => undefined);
    const fts = await db.get<{ version: number }>('SELECT MAX(version) AS version FROM schema_migration').catch(() => undefined);
    return Number(fts?.version) >= 5 ? Number(row?.n ?? 0) : 0;
  } finally {
    await db.close();
  }
}

/** Rows of a database whose search migration has not run (a fill interrupted before it); 0 otherwise. */
async function rowsBeforeSearchMigration(config: Config): Promise<number> {
  const db = await openDatabase(config.database);
  try {
    const row = await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM image').catch(() => undefined);
    // A migration that failed half-way leaves the column behind (MySQL DDL is not transactional).
    const column = await db.get<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'image' AND COLUMN_NAME = 'search_text'",
    );
    if (Number(column?.n) > 0) await db.run('ALTER TABLE image DROP COLUMN search_text');
    return Number(row?.n ?? 0);
  } finally {
    await db.close();
  }
}

async function timedMigration(db: Database): Promise<number> {
  const started = performance.now();
  await migrate(db);
  return (performance.now() - started) / 1000;
}

async function benchSearch() {
  const sizes = args.rows.split(',').map(Number);
  out('| engine | rows | case | rows on the page | p50 ms | p90 ms | max ms |');
  out('|---|---|---|---|---|---|---|');
  for (const rows of args['no-sqlite'] ? [] : sizes) {
    const dir = join(BENCH_DIR, `sqlite-${rows}`);
    const config = loadConfig({ DATA_DIR: dir });
    let fill;
    if ((await countRows(config).catch(() => 0)) !== rows) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      log(`sqlite: filling ${rows} rows ...`);
      fill = await fillSqlite(join(dir, 'pixyproxy.db'), rows);
    }
    await searchCases('SQLite', config, rows, fill);
  }
  if (args['no-mysql'] || mariadbBinary() === undefined) {
    log('MariaDB cases skipped (--no-mysql or no server binary)');
    return;
  }
  const server = await startMariadb(join(BENCH_DIR, 'mariadb'));
  try {
    for (const rows of sizes) {
      const url = await server.database(`gallery_${rows}`);
      const config = loadConfig({ DATA_DIR: join(BENCH_DIR, `mysql-${rows}`), DATABASE_URL: url });
      let fill;
      if ((await countRows(config).catch(() => 0)) !== rows) {
        // Migration 005 rebuilds the image table and its full-text index: far longer than the
        // default 10 s query timeout at a million rows (see docs/BENCHMARKS.md).
        const slow = { DB_QUERY_TIMEOUT_MS: '3600000' };
        const filled = await rowsBeforeSearchMigration(loadConfig({ DATABASE_URL: url, ...slow }));
        const db = await openDatabase(loadConfig({ DATABASE_URL: filled === rows ? url : await server.database(`gallery_${rows}`, { fresh: true }), ...slow }).database);
        log(`mariadb ${server.version}: ${filled === rows ? 'indexing' : 'filling'} ${rows} rows ...`);
        try {
          fill = filled === rows ? { fillSeconds: 0, indexSeconds: await timedMigration(db) } : await fillMysql(db, rows);
        } finally {
          await db.close();
        }
      }
      await searchCases(`MariaDB ${server.version.split('-')[0]}`, config, rows, fill);
    }
  } finally {
    await server.stop();
  }
}

const run = promisify(execFile);

async function benchThumbnails() {
  const dir = join(BENCH_DIR, 'thumbnails');
  await rm(dir, { recursive: true, force: true });
  const config = loadConfig({ DATA_DIR: dir, CREATE_RATE_LIMIT: '1000' });
  const context = await openContext(config, silentLogger, { generator: new LocalImageGenerator({ width: 1024, height: 1024 }) });
  const app = await buildApp(context.services, { createRateLimit: config.createRateLimit });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await context.services.access.addUser('bench', 'bench password 1');
    const created = await app.inject({
      method: 'POST', url: '/image', payload: { prompt: 'thumbnail bench' },
      headers: { authorization: `Basic ${Buffer.from('bench:bench password 1').toString('base64')}` },
    });
    const { guid, byte_size: originalBytes } = created.json<{ guid: string; byte_size: number }>();
    out(`\nThumbnails of one 1024x1024 PNG original (${originalBytes} bytes):\n`);
    out('| variant | first request (resize + store) ms | bytes | stored: req/s (wrk -c16 5 s) | p50 ms | p99 ms |');
    out('|---|---|---|---|---|---|');
    const hasWrk = existsSync('/usr/bin/wrk');
    for (const [w, accept] of [[256, 'image/avif'], [256, 'image/webp'], [256, 'image/png'], [1024, 'image/avif'], [1024, 'image/webp']] as const) {
      const url = `${base}/image/${guid}/content?w=${w}`;
      const started = performance.now();
      const first = await fetch(url, { headers: { accept } });
      const bytes = (await first.arrayBuffer()).byteLength;
      const firstMs = performance.now() - started;
      let wrk = { rps: '-', p50: '-', p99: '-' };
      if (hasWrk) {
        const { stdout } = await run('wrk', ['-t1', '-c16', '-d5s', '--latency', '-H', `Accept: ${accept}`, url]);
        const match = (re: RegExp) => re.exec(stdout)?.[1] ?? '?';
        wrk = { rps: match(/Requests\/sec:\s+([\d.]+)/), p50: match(/\s50%\s+([\d.]+\w+)/), p99: match(/\s99%\s+([\d.]+\w+)/) };
      }
      out(`| w=${w} ${first.headers.get('content-type')} | ${firstMs.toFixed(0)} | ${bytes} | ${wrk.rps} | ${wrk.p50} | ${wrk.p99} |`);
    }
  } finally {
    await app.close();
    await context.close();
  }
}

if (!args['no-search']) await benchSearch();
if (!args['no-thumbnails']) await benchThumbnails();
