/**
 * `npm run bench`: pixyproxy against a bare node:http baseline on this machine, SQLite always and
 * MySQL/MariaDB when a server binary is installed. Writes the table into docs/BENCHMARKS.md.
 *
 *   npm run bench                        # full run (~8 s per case after a 3 s warm-up)
 *   npm run bench -- --quick             # 1 s warm-up, 3 s per case
 *   npm run bench -- --no-mysql          # SQLite only
 *   npm run bench -- --large-rows 100000 # a smaller "large" SQLite catalogue
 *   npm run bench -- --profile           # CPU profiles of the detail and list cases instead
 *   npm run bench -- --server-dist DIR   # run an already compiled tree (e.g. an older build, for A/B)
 *
 * Large databases are kept in the OS temp dir (pixyproxy-bench/) and reused by later runs.
 */
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/core/config.js';
import { BENCH_ADMIN_PASSWORD, prepareData, type BenchData } from './bench-data.js';
import { buildServer, startBaseline, startPixyproxy, type ChildServer } from './child-server.js';
import { measure, type LoadOptions, type LoadResult } from './load.js';
import { mariadbBinary, startMariadb, type BenchMariadb } from './mariadb-server.js';
import { summariseProfiles } from './profile-summary.js';
import { writeReport, type CaseRow, type RunInfo } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-mysql': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'large-rows': { type: 'string', default: '1000000' },
    'mysql-large-rows': { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '16' },
    'no-write': { type: 'boolean', default: false },
    'server-dist': { type: 'string' },
  },
});

const BENCH_DIR = join(tmpdir(), 'pixyproxy-bench');
const SMALL_ROWS = 1000;
const timing = args.quick ? { warmupSeconds: 1, seconds: 3 } : { warmupSeconds: 3, seconds: 8 };
const connections = Number(args.connections);
const serverDist = args['server-dist'] ?? 'dist';
const log = (line: string) => process.stderr.write(`${line}\n`);
const rows: CaseRow[] = [];

function load(server: ChildServer, paths: readonly string[], extra: Partial<LoadOptions> = {}): Promise<LoadResult> {
  return measure({ url: server.url, paths, connections, ...timing, ...extra });
}

async function record(group: string, target: string, server: ChildServer, name: string, run: () => Promise<LoadResult>, rowsInDb?: number) {
  log(`  ${target} | ${name}${rowsInDb ? ` | ${rowsInDb} rows` : ''} ...`);
  const result = await run();
  rows.push({ group, target, name, rowsInDb, ...result });
  const rss = await server.rssMiB();
  log(`    ${result.reqPerSec.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, server RSS ${rss.toFixed(0)} MiB${result.failures ? `, ${result.failures} failures ${JSON.stringify(result.statuses)}` : ''}`);
}

const detailPaths = (data: BenchData) => data.guids.map((guid) => `/image/${guid}`);
const LIST_PATH = ['/image?limit=50'];
const TAG_LIST_PATH = ['/image?limit=50&tag=tag-3'];
const basicAuth = `Basic ${Buffer.from(`admin:${BENCH_ADMIN_PASSWORD}`).toString('base64')}`;
let postSequence = 0;

/**
 * Every case on one engine. The baseline, the small-catalogue and the large-catalogue servers run side
 * by side (idle ones cost nothing) and each case is measured on them back to back, so that a ratio
 * compares numbers taken within seconds of each other on this shared, noisy machine.
 */
async function benchEngine(group: string, small: BenchData, large: BenchData, baselineEnv: Record<string, string>, peaks: Record<string, number>) {
  const content = small.content!;
  const baseline = await startBaseline(baselineEnv);
  const server = await startPixyproxy(small.env, [], serverDist);
  const big = await startPixyproxy(large.env, [], serverDist);
  const contentPath = [`/image/${content.guid}/content`];
  const notModified = { headers: { 'if-none-match': content.etag } };
  try {
    for (const [name, paths] of [['GET /image/{guid}', null], ['GET /image?limit=50', LIST_PATH]] as const) {
      await record(group, 'baseline', baseline, name, () => load(baseline, paths ?? detailPaths(small)));
      await record(group, group, server, name, () => load(server, paths ?? detailPaths(small)), small.rows);
      await record(group, group, big, name, () => load(big, paths ?? detailPaths(large)), large.rows);
    }
    await record(group, group, server, 'GET /image?limit=50&tag=', () => load(server, TAG_LIST_PATH), small.rows);
    await record(group, group, big, 'GET /image?limit=50&tag=', () => load(big, TAG_LIST_PATH), large.rows);
    await record(group, 'baseline', baseline, 'GET content (1 MiB)', () => load(baseline, contentPath));
    await record(group, group, server, 'GET content (1 MiB)', () => load(server, contentPath));
    await record(group, 'baseline', baseline, 'GET content, If-None-Match (304)', () => load(baseline, contentPath, notModified));
    await record(group, group, server, 'GET content, If-None-Match (304)', () => load(server, contentPath, notModified));
    await record(group, group, server, 'POST /image (local 512x512)', () =>
      load(server, ['/image'], {
        method: 'POST',
        connections: 4,
        // A create takes a second or more on a busy machine: give it enough time to finish some.
        seconds: Math.max(timing.seconds, 8),
        headers: { authorization: basicAuth, 'content-type': 'application/json' },
        body: () => JSON.stringify({ prompt: `benchmark prompt ${process.pid} ${postSequence++}`, tags: ['bench'] }),
      }),
    );
  } finally {
    peaks[`${group}, ${small.rows} rows`] = await server.peakRssMiB();
    peaks[`${group}, ${large.rows} rows`] = await big.peakRssMiB();
    peaks[`baseline (${group} run)`] = await baseline.peakRssMiB();
    await Promise.all([server.stop(), big.stop(), baseline.stop()]);
  }
}

/** The baseline answers with pixyproxy's own bodies, fetched once from the SQLite server. */
async function baselineBodies(small: BenchData): Promise<Record<string, string>> {
  const server = await startPixyproxy(small.env, [], serverDist);
  try {
    const detail = Buffer.from(await (await fetch(`${server.url}/image/${small.guids[0]}`)).arrayBuffer());
    const list = Buffer.from(await (await fetch(`${server.url}${LIST_PATH[0]}`)).arrayBuffer());
    const files = { BENCH_DETAIL_FILE: join(BENCH_DIR, 'detail.json'), BENCH_LIST_FILE: join(BENCH_DIR, 'list.json'), BENCH_PNG_FILE: join(BENCH_DIR, 'content.png') };
    await writeFile(files.BENCH_DETAIL_FILE, detail);
    await writeFile(files.BENCH_LIST_FILE, list);
    await writeFile(files.BENCH_PNG_FILE, small.content!.bytes);
    return { ...files, BENCH_ETAG: small.content!.etag };
  } finally {
    await server.stop();
  }
}

function sqliteData(name: string, rowCount: number, reuse: boolean): Promise<BenchData> {
  const dir = join(BENCH_DIR, name);
  const file = join(dir, 'pixyproxy.db');
  return prepareData({ dir, database: { kind: 'sqlite', file }, databaseUrl: `sqlite:${file}`, rows: rowCount, reuse, log });
}

async function mysqlData(mariadb: BenchMariadb, name: string, rowCount: number, reuse: boolean): Promise<BenchData> {
  const url = await mariadb.database(name, { fresh: !reuse });
  const { database } = loadConfig({ DATABASE_URL: url });
  return prepareData({ dir: join(BENCH_DIR, name), database, databaseUrl: url, rows: rowCount, reuse, log });
}

async function profile() {
  const small = await sqliteData('sqlite-small', SMALL_ROWS, false);
  const dir = join(BENCH_DIR, 'profiles');
  const content = small.content!;
  const cases: [string, readonly string[], Partial<LoadOptions>][] = [
    ['detail', detailPaths(small), {}],
    ['list', LIST_PATH, {}],
    ['not-modified', [`/image/${content.guid}/content`], { headers: { 'if-none-match': content.etag } }],
  ];
  for (const [label, paths, extra] of cases) {
    await rm(join(dir, label), { recursive: true, force: true });
    const server = await startPixyproxy(small.env, ['--cpu-prof', `--cpu-prof-dir=${join(dir, label)}`], serverDist);
    try {
      await record('sqlite', 'sqlite', server, label, () => load(server, paths, extra), small.rows);
    } finally {
      await server.stop();
    }
    log(await summariseProfiles(join(dir, label), 30));
  }
}

async function main() {
  if (args['server-dist'] === undefined) {
    log('building dist/ ...');
    await buildServer();
  }
  if (args.profile) return profile();
  const info: RunInfo = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    loadAverage: loadavg()[0]!,
    connections,
    ...timing,
    notes: [],
  };
  const peaks: Record<string, number> = {};
  const largeRows = Number(args['large-rows']);
  log('preparing SQLite data ...');
  const small = await sqliteData('sqlite-small', SMALL_ROWS, false);
  const large = await sqliteData(`sqlite-${largeRows}`, largeRows, true);
  const baselineEnv = await baselineBodies(small);
  await benchEngine('sqlite', small, large, baselineEnv, peaks);

  if (args['no-mysql']) info.notes.push('MySQL skipped (--no-mysql).');
  else if (mariadbBinary() === undefined) info.notes.push('MySQL skipped: no mariadbd/mysqld binary installed.');
  else {
    log('starting MariaDB ...');
    const mariadb = await startMariadb(join(BENCH_DIR, 'mariadb'));
    try {
      info.notes.push(`MySQL target: MariaDB ${mariadb.version}, throwaway server on loopback (innodb_buffer_pool_size 512M).`);
      const mysqlLarge = Number(args['mysql-large-rows']);
      const mysqlSmall = await mysqlData(mariadb, 'bench_small', SMALL_ROWS, false);
      const mysqlBig = await mysqlData(mariadb, `bench_${mysqlLarge}`, mysqlLarge, true);
      await benchEngine('mysql', mysqlSmall, mysqlBig, baselineEnv, peaks);
    } finally {
      await mariadb.stop();
    }
  }
  info.loadAverageEnd = loadavg()[0]!;
  const markdown = await writeReport(info, rows, peaks, { write: !args['no-write'] });
  process.stdout.write(`${markdown}\n`);
}

await main();
