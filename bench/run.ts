/**
 * `npm run bench`: pixyproxy against a bare node:http baseline on this machine, SQLite always and
 * MySQL/MariaDB when a server binary is installed. Writes the table into docs/BENCHMARKS.md.
 *
 *   npm run bench                        # full run (3 s warm-up, 8 s per case)
 *   npm run bench -- --quick             # 1 s warm-up, 3 s per case
 *   npm run bench -- --no-mysql          # SQLite only
 *   npm run bench -- --large-rows 100000 # a smaller "large" SQLite catalogue
 *   npm run bench -- --client autocannon # force the fallback load generator (autocannon workers)
 *   npm run bench -- --profile           # CPU profiles of the detail, list, 304 and content cases instead
 *   npm run bench -- --server-dist DIR   # run an already compiled tree (e.g. an older build, for A/B)
 *
 * The load generator is wrk (a compiled client that saturates the bare baseline); without it,
 * several autocannon workers in separate processes. Large databases are kept in the OS temp dir
 * (pixyproxy-bench/) and reused by later runs.
 */
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/core/config.js';
import { BENCH_ADMIN_PASSWORD, prepareData, type BenchContent, type BenchData } from './bench-data.js';
import { buildServer, startBaseline, startPixyproxy, type ChildServer } from './child-server.js';
import { runLoad, type LoadClient, type RequestSpec } from './load.js';
import { mariadbBinary, startMariadb, type BenchMariadb } from './mariadb-server.js';
import { summariseProfiles } from './profile-summary.js';
import { writeReport, type CaseRow, type RunInfo, type ServerFacts } from './report.js';
import { ensureWrk } from './wrk.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-mysql': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'large-rows': { type: 'string', default: '1000000' },
    'mysql-large-rows': { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    client: { type: 'string', default: 'auto' },
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
let client: LoadClient;

/** Warm-up (discarded), then the measured run, with the server's CPU use over the measured run. */
async function record(group: string, target: string, server: ChildServer, name: string, spec: RequestSpec, extra: { rowsInDb?: number; connections?: number; seconds?: number } = {}) {
  log(`  ${target} | ${name}${extra.rowsInDb ? ` | ${extra.rowsInDb} rows` : ''} ...`);
  await probe(server, spec);
  const options = { url: server.url, spec, client, connections: extra.connections ?? connections };
  if (timing.warmupSeconds > 0) await runLoad(options, timing.warmupSeconds);
  const cpuBefore = await server.cpuSeconds();
  const startedAt = performance.now();
  const result = await runLoad(options, extra.seconds ?? timing.seconds);
  const serverCpuPercent = (100 * ((await server.cpuSeconds()) - cpuBefore)) / ((performance.now() - startedAt) / 1000);
  rows.push({ group, target, name, rowsInDb: extra.rowsInDb, serverCpuPercent, ...result });
  const rss = await server.rssMiB();
  log(
    `    ${result.reqPerSec.toFixed(0)} req/s, ${(result.bytesPerSec / 2 ** 20).toFixed(1)} MiB/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
      `server CPU ${serverCpuPercent.toFixed(0)}%, client CPU ${result.clientCpuPercent.toFixed(0)}%, server RSS ${rss.toFixed(0)} MiB` +
      `${result.failures ? `, ${result.failures} failures ${JSON.stringify(result.statuses)}` : ''}`,
  );
}

/**
 * One request of the case before the load: a case whose first answer is not the expected status
 * (wrk does not look at statuses below 400, e.g. a 200 where a 304 was meant) would measure the wrong thing.
 */
async function probe(server: ChildServer, spec: RequestSpec) {
  if (spec.method === 'POST') return;
  const entry = spec.requests[0]!;
  const response = await fetch(`${server.url}${entry.path}`, { headers: { ...spec.headers, ...entry.headers } });
  await response.arrayBuffer();
  const expected = entry.headers?.['if-none-match'] !== undefined ? 304 : 200;
  if (response.status !== expected) throw new Error(`probe ${entry.path}: expected ${expected}, got ${response.status}`);
}

const get = (paths: readonly string[], headers?: Record<string, string>): RequestSpec => ({ requests: paths.map((path) => ({ path, ...(headers && { headers }) })) });
const detailSpec = (data: BenchData) => get(data.guids.map((guid) => `/image/${guid}`));
const cursorSpec = (data: BenchData) => get(data.cursors.map((cursor) => `/image?limit=50&after=${cursor}`));
const LIST = get(['/image?limit=50']);
// Each matches ~20% of the synthetic rows (scripts/fill-images.ts): 2 of 10 tags, 1 of 5 authors.
const TAG_LIST = get(Array.from({ length: 10 }, (_, n) => `/image?limit=50&tag=tag-${n}`));
const AUTHOR_LIST = get(Array.from({ length: 5 }, (_, n) => `/image?limit=50&author=author-${n}`));
const contentSpec = (content: BenchContent) => get([`/image/${content.guid}/content`]);
const notModifiedSpec = (content: NonNullable<BenchData['content']>): RequestSpec => ({
  requests: [content.small, content.large].map((c) => ({ path: `/image/${c.guid}/content`, headers: { 'if-none-match': c.etag } })),
});
const basicAuth = `Basic ${Buffer.from(`admin:${BENCH_ADMIN_PASSWORD}`).toString('base64')}`;
const POST: RequestSpec = {
  requests: [{ path: '/image' }],
  method: 'POST',
  headers: { authorization: basicAuth, 'content-type': 'application/json' },
  bodyTemplate: JSON.stringify({ prompt: 'benchmark prompt {n}', tags: ['bench'] }),
};

/**
 * Every case on one engine. The baseline, the small-catalogue and the large-catalogue servers run side
 * by side (idle ones cost nothing) and each case is measured on them back to back, so that a ratio
 * compares numbers taken within seconds of each other on this shared, noisy machine.
 */
async function benchEngine(group: string, small: BenchData, large: BenchData, baselineEnv: Record<string, string>, facts: ServerFacts) {
  const content = small.content!;
  // The baseline serves the same two PNGs under this catalogue's guids (each engine's images get their own).
  const baseline = await startBaseline({
    ...baselineEnv,
    BENCH_CONTENT: JSON.stringify(Object.entries(content).map(([label, image]) => ({ guid: image.guid, file: contentFile(label), etag: image.etag }))),
  });
  const server = await startPixyproxy(small.env, [], serverDist);
  const big = await startPixyproxy(large.env, [], serverDist);
  facts.coldStartMs[`${group}, ${small.rows} rows`] = server.coldStartMs!;
  facts.coldStartMs[`${group}, ${large.rows} rows`] = big.coldStartMs!;
  try {
    await record(group, 'baseline', baseline, 'GET /image/{guid}', detailSpec(small));
    await record(group, group, server, 'GET /image/{guid}', detailSpec(small), { rowsInDb: small.rows });
    await record(group, group, big, 'GET /image/{guid}', detailSpec(large), { rowsInDb: large.rows });
    await record(group, 'baseline', baseline, 'GET /image?limit=50', LIST);
    for (const [name, spec, bigSpec] of [
      ['GET /image?limit=50', LIST, LIST],
      ['GET /image?limit=50&after=', cursorSpec(small), cursorSpec(large)],
      ['GET /image?limit=50&tag=', TAG_LIST, TAG_LIST],
      ['GET /image?limit=50&author=', AUTHOR_LIST, AUTHOR_LIST],
    ] as const) {
      await record(group, group, server, name, spec, { rowsInDb: small.rows });
      await record(group, group, big, name, bigSpec, { rowsInDb: large.rows });
    }
    for (const [name, image] of [['GET content (64 KiB)', content.small], ['GET content (1 MiB)', content.large]] as const) {
      await record(group, 'baseline', baseline, name, contentSpec(image));
      await record(group, group, server, name, contentSpec(image));
    }
    await record(group, 'baseline', baseline, 'GET content, If-None-Match (304)', notModifiedSpec(content));
    await record(group, group, server, 'GET content, If-None-Match (304)', notModifiedSpec(content));
    // A create takes a second or more on a busy machine: 4 connections, and time to finish some.
    await record(group, group, server, 'POST /image (local 512x512)', POST, { connections: 4, seconds: Math.max(timing.seconds, 8) });
  } finally {
    facts.peakRssMiB[`${group}, ${small.rows} rows`] = await server.peakRssMiB();
    facts.peakRssMiB[`${group}, ${large.rows} rows`] = await big.peakRssMiB();
    facts.baselinePeakRssMiB = Math.max(facts.baselinePeakRssMiB ?? 0, await baseline.peakRssMiB());
    await Promise.all([server.stop(), big.stop(), baseline.stop()]);
  }
}

const contentFile = (label: string) => join(BENCH_DIR, `content-${label}.png`);

/** The baseline answers with pixyproxy's own bodies, fetched once from the SQLite server. */
async function baselineBodies(small: BenchData): Promise<Record<string, string>> {
  const server = await startPixyproxy(small.env, [], serverDist);
  try {
    const detail = Buffer.from(await (await fetch(`${server.url}/image/${small.guids[0]}`)).arrayBuffer());
    const list = Buffer.from(await (await fetch(`${server.url}${LIST.requests[0]!.path}`)).arrayBuffer());
    const files = { BENCH_DETAIL_FILE: join(BENCH_DIR, 'detail.json'), BENCH_LIST_FILE: join(BENCH_DIR, 'list.json') };
    await writeFile(files.BENCH_DETAIL_FILE, detail);
    await writeFile(files.BENCH_LIST_FILE, list);
    for (const [label, image] of Object.entries(small.content!)) await writeFile(contentFile(label), image.bytes);
    return files;
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
  const cases: [string, RequestSpec][] = [
    ['detail', detailSpec(small)],
    ['list', LIST],
    ['not-modified', notModifiedSpec(content)],
    ['content-64k', contentSpec(content.small)],
  ];
  for (const [label, spec] of cases) {
    await rm(join(dir, label), { recursive: true, force: true });
    const server = await startPixyproxy(small.env, ['--cpu-prof', `--cpu-prof-dir=${join(dir, label)}`], serverDist);
    try {
      await record('sqlite', 'sqlite', server, label, spec, { rowsInDb: small.rows });
    } finally {
      await server.stop();
    }
    log(await summariseProfiles(join(dir, label), 30));
  }
}

async function chooseClient(): Promise<LoadClient> {
  const threads = Number(args.threads);
  if (args.client === 'autocannon') return { kind: 'autocannon', workers: Math.max(2, threads) };
  const binary = await ensureWrk(log);
  if (binary !== undefined) return { kind: 'wrk', binary, threads };
  if (args.client === 'wrk') throw new Error('--client wrk: wrk is not installed');
  log('wrk not installed: autocannon workers in separate processes drive the load instead');
  return { kind: 'autocannon', workers: Math.max(2, threads) };
}

async function main() {
  client = await chooseClient();
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
    client: client.kind === 'wrk' ? `wrk (${client.threads} thread${client.threads > 1 ? 's' : ''})` : `autocannon (${client.workers} worker processes)`,
    ...timing,
    notes: [],
  };
  const facts: ServerFacts = { peakRssMiB: {}, coldStartMs: {} };
  const largeRows = Number(args['large-rows']);
  log('preparing SQLite data ...');
  const small = await sqliteData('sqlite-small', SMALL_ROWS, false);
  const large = await sqliteData(`sqlite-${largeRows}`, largeRows, true);
  const baselineEnv = await baselineBodies(small);
  await benchEngine('sqlite', small, large, baselineEnv, facts);

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
      await benchEngine('mysql', mysqlSmall, mysqlBig, baselineEnv, facts);
    } finally {
      await mariadb.stop();
    }
  }
  info.loadAverageEnd = loadavg()[0]!;
  const markdown = await writeReport(info, rows, facts, { write: !args['no-write'] });
  process.stdout.write(`${markdown}\n`);
}

await main();
