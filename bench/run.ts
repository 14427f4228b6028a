/**
 * `npm run bench`: pixyproxy against a bare node:http baseline on this machine — SQLite always, the
 * S3 object store and MySQL/MariaDB when they can be started — plus prompt search and thumbnails.
 * Writes the table into docs/BENCHMARKS.md.
 *
 *   npm run bench                            # full run (3 s warm-up, 8 s per case, 1,000,000-row catalogues)
 *   npm run bench -- --quick                 # every case, briefly: 1 s + 2 s, 20,000-row catalogues, no write
 *   npm run bench -- --only search,thumbnails  # some case groups only: api, s3, search, thumbnails
 *   npm run bench -- --no-mysql              # SQLite only (and the object store)
 *   npm run bench -- --large-rows 100000     # a smaller "large" SQLite catalogue
 *   npm run bench -- --client autocannon     # force the fallback load generator (autocannon workers)
 *   npm run bench -- --profile               # CPU profiles of the detail, list, 304 and content cases instead
 *   npm run bench -- --server-dist DIR       # run an already compiled tree (e.g. an older build, for A/B)
 *
 * The load generator is wrk (a compiled client that saturates the bare baseline); without it,
 * several autocannon workers in separate processes. Large databases are kept in the data directory
 * (default: pixyproxy-bench/ in the OS temp dir) and reused by later runs.
 *
 * The object-store cases run against S3_ENDPOINT/S3_BUCKET (credentials from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY) when those are set, otherwise against a single-node OpenStack Swift with its
 * S3 API started on loopback the way the tests start it (`../shared/object-store/swift-s3`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SEARCH_COMMON_TERM, SEARCH_RARE_TERM } from '../scripts/fill-images.js';
import { loadConfig } from '../src/core/config.js';
import { S3ImageStore } from '../src/service/storage/s3/s3-image-store.js';
import { adminClient, createTestBucket, findSwiftS3Script, startSwiftS3, stopSwiftS3, type ObjectStoreServer, type TestBucket } from '../test/support/object-store.js';
import { BENCH_ADMIN_PASSWORD, prepareData, type BenchContent, type BenchData } from './bench-data.js';
import { buildServer, cpuSeconds, startBaseline, startPixyproxy, type ChildServer } from './child-server.js';
import { runLoad, type LoadClient, type RequestSpec } from './load.js';
import { mariadbBinary, startMariadb, type BenchMariadb } from './mariadb-server.js';
import { summariseProfiles } from './profile-summary.js';
import { writeReport, type CaseRow, type RunInfo, type ServerFacts } from './report.js';
import { ensureWrk } from './wrk.js';

const CASE_GROUPS = ['api', 's3', 'search', 'thumbnails'] as const;
type CaseGroup = (typeof CASE_GROUPS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: CASE_GROUPS.join(',') },
    'no-mysql': { type: 'boolean', default: false },
    'no-s3': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'large-rows': { type: 'string' },
    'mysql-large-rows': { type: 'string' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    client: { type: 'string', default: 'auto' },
    'no-write': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    'server-dist': { type: 'string' },
    'data-dir': { type: 'string', default: join(tmpdir(), 'pixyproxy-bench') },
  },
});

const only = new Set(args.only.split(',').map((group) => group.trim()));
for (const group of only) {
  if (!(CASE_GROUPS as readonly string[]).includes(group)) throw new Error(`--only: unknown case group "${group}"; the groups are ${CASE_GROUPS.join(', ')}`);
}
const runs = (group: CaseGroup) => only.has(group);

const BENCH_DIR = args['data-dir'];
const SMALL_ROWS = 1000;
// --quick checks the harness: every case, but short and on catalogues that fill in seconds.
const QUICK_LARGE_ROWS = 20_000;
const defaultLargeRows = args.quick ? QUICK_LARGE_ROWS : 1_000_000;
const largeRows = Number(args['large-rows'] ?? defaultLargeRows);
const mysqlLargeRows = Number(args['mysql-large-rows'] ?? defaultLargeRows);
for (const [option, value] of [['--large-rows', largeRows], ['--mysql-large-rows', mysqlLargeRows]] as const) {
  // The cases sample rows after the first 100 (so that a page after each is full).
  if (!Number.isInteger(value) || value < 1000) throw new Error(`${option} must be a whole number of at least 1000, got ${value}`);
}
const timing = args.quick ? { warmupSeconds: 1, seconds: 2 } : { warmupSeconds: 3, seconds: 8 };
const THUMBNAIL_ORIGINALS = args.quick ? 2 : 5;
// The large catalogues are reused between runs; a change to what they hold (the prompts of the
// search cases; version 3: a MariaDB full-text index that matches) must not reuse an older one, so
// their names carry this version.
const CATALOGUE_VERSION = 3;
const connections = Number(args.connections);
const serverDist = args['server-dist'] ?? 'dist';
const log = (line: string) => process.stderr.write(`${line}\n`);
const rows: CaseRow[] = [];
let client: LoadClient;

/** Warm-up (discarded), then the measured run, with the server's CPU use over the measured run. */
async function record(
  group: string,
  target: string,
  server: ChildServer,
  name: string,
  spec: RequestSpec,
  extra: { rowsInDb?: number; connections?: number; seconds?: number; storeCpuSeconds?: () => Promise<number> } = {},
) {
  log(`  ${target} | ${name}${extra.rowsInDb ? ` | ${extra.rowsInDb} rows` : ''} ...`);
  await probe(server, spec);
  const options = { url: server.url, spec, client, connections: extra.connections ?? connections };
  if (timing.warmupSeconds > 0) await runLoad(options, timing.warmupSeconds);
  const cpuBefore = await server.cpuSeconds();
  const storeCpuBefore = await extra.storeCpuSeconds?.();
  const startedAt = performance.now();
  const result = await runLoad(options, extra.seconds ?? timing.seconds);
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const serverCpuPercent = (100 * ((await server.cpuSeconds()) - cpuBefore)) / elapsedSeconds;
  const storeCpuAfter = await extra.storeCpuSeconds?.();
  const storeCpuPercent = storeCpuBefore === undefined || storeCpuAfter === undefined ? undefined : (100 * (storeCpuAfter - storeCpuBefore)) / elapsedSeconds;
  rows.push({ group, target, name, rowsInDb: extra.rowsInDb, serverCpuPercent, connections: options.connections, ...(storeCpuPercent !== undefined && { storeCpuPercent }), ...result });
  const rss = await server.rssMiB();
  log(
    `    ${result.reqPerSec.toFixed(0)} req/s, ${(result.bytesPerSec / 2 ** 20).toFixed(1)} MiB/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
      `server CPU ${serverCpuPercent.toFixed(0)}%${storeCpuPercent === undefined ? '' : `, object store CPU ${storeCpuPercent.toFixed(0)}%`}, ` +
      `client CPU ${result.clientCpuPercent.toFixed(0)}%, server RSS ${rss.toFixed(0)} MiB` +
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
// Prompt search (scripts/fill-images.ts puts the common term in 1 prompt of 5, the rare one in 1 of 10,000).
const SEARCHES = [
  [`GET /image?q=${SEARCH_RARE_TERM}&limit=50 (1 row in 10,000)`, get([`/image?q=${SEARCH_RARE_TERM}&limit=50`])],
  [`GET /image?q=${SEARCH_COMMON_TERM}&limit=50 (1 row in 5)`, get([`/image?q=${SEARCH_COMMON_TERM}&limit=50`])],
] as const;
/** One connection: the search target is a latency (p50), which queueing behind other connections would inflate. */
const SEARCH_CONNECTIONS = 1;

/**
 * Every API case on one engine. The baseline, the small-catalogue and the large-catalogue servers run
 * side by side (idle ones cost nothing) and each case is measured on them back to back, so that a ratio
 * compares numbers taken within seconds of each other on this shared, noisy machine.
 */
async function benchEngine(group: string, small: BenchData, large: BenchData, baselineEnv: Record<string, string>, facts: ServerFacts) {
  const content = small.content!;
  // The baseline serves the same two PNGs under this catalogue's guids (each engine's images get their own).
  const baseline = runs('api') ? await startBaseline({ ...baselineEnv, BENCH_CONTENT: baselineContent(content) }) : undefined;
  const server = await startPixyproxy(small.env, [], serverDist);
  const big = await startPixyproxy(large.env, [], serverDist);
  facts.coldStartMs[`${group}, ${small.rows} rows`] = server.coldStartMs!;
  facts.coldStartMs[`${group}, ${large.rows} rows`] = big.coldStartMs!;
  try {
    if (baseline !== undefined) {
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
      await contentCases(group, baseline, [[group, server]], content);
      // A create takes a second or more on a busy machine: 4 connections, and time to finish some.
      await record(group, group, server, 'POST /image (local 512x512)', POST, { connections: 4, seconds: args.quick ? 5 : Math.max(timing.seconds, 8) });
    }
    if (runs('search')) {
      for (const [name, spec] of SEARCHES) {
        await record(group, group, server, name, spec, { rowsInDb: small.rows, connections: SEARCH_CONNECTIONS });
        await record(group, group, big, name, spec, { rowsInDb: large.rows, connections: SEARCH_CONNECTIONS });
      }
    }
  } finally {
    facts.peakRssMiB[`${group}, ${small.rows} rows`] = await server.peakRssMiB();
    facts.peakRssMiB[`${group}, ${large.rows} rows`] = await big.peakRssMiB();
    if (baseline) facts.baselinePeakRssMiB = Math.max(facts.baselinePeakRssMiB ?? 0, await baseline.peakRssMiB());
    await Promise.all([server.stop(), big.stop(), baseline?.stop()]);
  }
}

/** The content cases (64 KiB, 1 MiB, 304), each on the baseline and then on every target, back to back. */
async function contentCases(
  group: string,
  baseline: ChildServer,
  targets: [string, ChildServer][],
  content: NonNullable<BenchData['content']>,
  storeCpuSeconds?: () => Promise<number>,
) {
  const extra = storeCpuSeconds === undefined ? {} : { storeCpuSeconds };
  for (const [name, image] of [['GET content (64 KiB)', content.small], ['GET content (1 MiB)', content.large]] as const) {
    await record(group, 'baseline', baseline, name, contentSpec(image));
    for (const [target, server] of targets) await record(group, target, server, name, contentSpec(image), extra);
  }
  await record(group, 'baseline', baseline, 'GET content, If-None-Match (304)', notModifiedSpec(content));
  for (const [target, server] of targets) await record(group, target, server, 'GET content, If-None-Match (304)', notModifiedSpec(content), extra);
}

const baselineContent = (content: NonNullable<BenchData['content']>) =>
  JSON.stringify(Object.entries(content).map(([label, image]) => ({ guid: image.guid, file: contentFile(label), etag: image.etag })));

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

/** The widths and formats of the thumbnail cases; the format follows `Accept` (docs/API.md). */
const THUMBNAIL_VARIANTS = [
  [256, 'image/avif'],
  [256, 'image/webp'],
  [256, 'image/png'],
  [1024, 'image/avif'],
  [1024, 'image/webp'],
] as const;
const REPEAT_WIDTH = 256;

/**
 * Thumbnails on their own server (sharp's memory would otherwise count in the API cases' peak RSS):
 * the first request of each variant of each original, one at a time (resize, encode, store), then
 * the stored 256 px variants, every format, under load.
 */
async function benchThumbnails(group: string, small: BenchData, facts: ServerFacts) {
  const server = await startPixyproxy(small.env, [], serverDist);
  const label = `${group} thumbnails, ${small.rows} rows`;
  facts.coldStartMs[label] = server.coldStartMs!;
  try {
    log(`  ${group} | thumbnails: first requests of ${THUMBNAIL_VARIANTS.length} variants of ${small.thumbnailOriginals.length} originals ...`);
    for (const [width, accept] of THUMBNAIL_VARIANTS) {
      const times: number[] = [];
      let bytes = 0;
      let contentType = '';
      for (const original of small.thumbnailOriginals) {
        const started = performance.now();
        const response = await fetch(`${server.url}/image/${original.guid}/content?w=${width}`, { headers: { accept } });
        bytes = (await response.arrayBuffer()).byteLength;
        times.push(performance.now() - started);
        if (response.status !== 200) throw new Error(`thumbnail w=${width} ${accept}: expected 200, got ${response.status}`);
        contentType = response.headers.get('content-type') ?? '';
      }
      times.sort((a, b) => a - b);
      facts.thumbnailFirst.push({ group, width, contentType, bytes, samples: times.length, p50Ms: times[Math.floor(times.length / 2)]!, maxMs: times.at(-1)! });
      log(`    w=${width} ${contentType}: p50 ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms, ${bytes} bytes`);
    }
    const repeat: RequestSpec = {
      requests: small.thumbnailOriginals.flatMap((original) =>
        THUMBNAIL_VARIANTS.filter(([width]) => width === REPEAT_WIDTH).map(([, accept]) => ({ path: `/image/${original.guid}/content?w=${REPEAT_WIDTH}`, headers: { accept } })),
      ),
    };
    await record(group, group, server, `GET content?w=${REPEAT_WIDTH}, stored variant (AVIF, WebP, PNG)`, repeat, { rowsInDb: small.rows });
  } finally {
    facts.peakRssMiB[label] = await server.peakRssMiB();
    await server.stop();
  }
}

function sqliteData(name: string, rowCount: number, reuse: boolean, objectStore?: Parameters<typeof prepareData>[0]['objectStore']): Promise<BenchData> {
  const dir = join(BENCH_DIR, name);
  const file = join(dir, 'pixyproxy.db');
  return prepareData({ dir, database: { kind: 'sqlite', file }, databaseUrl: `sqlite:${file}`, rows: rowCount, reuse, log, thumbnailOriginals: reuse ? 0 : THUMBNAIL_ORIGINALS, ...(objectStore && { objectStore }) });
}

async function mysqlData(mariadb: BenchMariadb, name: string, rowCount: number, reuse: boolean): Promise<BenchData> {
  const url = await mariadb.database(name, { fresh: !reuse });
  const { database } = loadConfig({ DATABASE_URL: url });
  return prepareData({ dir: join(BENCH_DIR, name), database, databaseUrl: url, rows: rowCount, reuse, log });
}

/** The S3 server of the object-store cases: the one S3_* names, or a Swift started here (stopped by `stop`). */
async function openObjectStore(
  info: RunInfo,
): Promise<{ server: ObjectStoreServer; bucket?: string; stop(): Promise<void>; storeCpuSeconds?: () => Promise<number> } | undefined> {
  const endpoint = process.env['S3_ENDPOINT']?.trim();
  const bucket = process.env['S3_BUCKET']?.trim();
  if (endpoint && bucket) {
    const accessKeyId = process.env['AWS_ACCESS_KEY_ID'] ?? '';
    const secretAccessKey = process.env['AWS_SECRET_ACCESS_KEY'] ?? '';
    info.notes.push(`Object store: S3_ENDPOINT ${endpoint}, bucket ${bucket} (from the environment).`);
    return { server: { endpoint, accessKeyId, secretAccessKey, region: process.env['S3_REGION'] ?? 'us-east-1' }, bucket, stop: async () => undefined };
  }
  const script = findSwiftS3Script();
  if (script === undefined) {
    info.notes.push('Object-store cases skipped: no S3_ENDPOINT/S3_BUCKET given and ../shared/object-store/swift-s3 not found.');
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-bench-swift-'));
  const stop = async () => {
    await stopSwiftS3(script, dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const server = await startSwiftS3(script, dir);
    const storeCpuSeconds = async () => {
      // swift-s3 records each daemon's pid (and start time) in DIR/run/NAME.pid.
      const files = (await readdir(join(dir, 'run')).catch(() => [])).filter((file) => file.endsWith('.pid'));
      const pids = await Promise.all(files.map(async (file) => Number((await readFile(join(dir, 'run', file), 'utf8')).trim().split(/\s+/)[0])));
      const seconds = await Promise.all(pids.filter((pid) => pid > 0).map((pid) => cpuSeconds(pid)));
      return seconds.reduce((total, s) => total + (Number.isNaN(s) ? 0 : s), 0);
    };
    info.notes.push(
      `Object store: OpenStack Swift (s3api) as a single node on loopback, started by swift-s3 (SWIFT_S3_WORKERS=${process.env['SWIFT_S3_WORKERS'] ?? '0'}), on the same cores as everything else.`,
    );
    return { server, stop, storeCpuSeconds };
  } catch (error) {
    await stop();
    info.notes.push(`Object-store cases skipped: swift-s3 did not start (${String(error).split('\n')[0]}).`);
    return undefined;
  }
}

/**
 * The content cases with the bytes in the object store, on one SQLite catalogue: as configured by
 * default (the content cache answers repeat reads from memory) and with CONTENT_CACHE_BYTES=0, where
 * every request streams from the store. Measured against their own baseline, back to back.
 */
async function benchObjectStore(baselineEnv: Record<string, string>, facts: ServerFacts, info: RunInfo) {
  const store = await openObjectStore(info);
  if (store === undefined) return log('object-store cases skipped (see the notes)');
  let bucket: TestBucket | undefined;
  let cleanUp: (() => Promise<void>) | undefined;
  try {
    // In a bucket of the user's, the run's objects go under a prefix of their own, deleted afterwards.
    const runPrefix = `${process.env['S3_PREFIX'] ?? ''}pixyproxy-bench-${randomBytes(4).toString('hex')}/`;
    const s3Env = store.bucket === undefined
      ? (bucket = await createTestBucket(store.server)).env
      : {
          IMAGE_STORE: 's3', S3_BUCKET: store.bucket, S3_ENDPOINT: store.server.endpoint, S3_REGION: store.server.region, S3_PREFIX: runPrefix,
          AWS_ACCESS_KEY_ID: store.server.accessKeyId, AWS_SECRET_ACCESS_KEY: store.server.secretAccessKey,
          ...(process.env['S3_FORCE_PATH_STYLE'] && { S3_FORCE_PATH_STYLE: process.env['S3_FORCE_PATH_STYLE'] }),
        };
    if (bucket === undefined) cleanUp = () => deletePrefix(store.server, store.bucket!, runPrefix);
    const config = loadConfig(s3Env);
    const objectStore = new S3ImageStore({
      ...config.storage.s3!,
      timeoutMs: config.storage.timeoutMs,
      credentials: { accessKeyId: store.server.accessKeyId, secretAccessKey: store.server.secretAccessKey },
    });
    const data = await sqliteData('s3-small', SMALL_ROWS, false, { store: objectStore, env: s3Env });
    const content = data.content!;
    const baseline = await startBaseline({ ...baselineEnv, BENCH_CONTENT: baselineContent(content) });
    const cached = await startPixyproxy(data.env, [], serverDist);
    const uncached = await startPixyproxy({ ...data.env, CONTENT_CACHE_BYTES: '0' }, [], serverDist);
    facts.coldStartMs[`s3, ${data.rows} rows`] = cached.coldStartMs!;
    try {
      await contentCases('s3', baseline, [['s3', cached], ['s3, no cache', uncached]], content, store.storeCpuSeconds);
    } finally {
      facts.peakRssMiB[`s3, ${data.rows} rows`] = await cached.peakRssMiB();
      facts.peakRssMiB[`s3, no cache, ${data.rows} rows`] = await uncached.peakRssMiB();
      facts.baselinePeakRssMiB = Math.max(facts.baselinePeakRssMiB ?? 0, await baseline.peakRssMiB());
      await Promise.all([cached.stop(), uncached.stop(), baseline.stop()]);
    }
  } finally {
    await (bucket?.destroy() ?? cleanUp?.())?.catch((error: unknown) => log(`could not delete the bench objects: ${String(error)}`));
    await store.stop();
  }
}

/** Deletes every object under `prefix` in `bucket`. */
async function deletePrefix(server: ObjectStoreServer, bucket: string, prefix: string): Promise<void> {
  const client = adminClient(server);
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      token = page.NextContinuationToken;
    } while (token);
  } finally {
    client.destroy();
  }
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
  const startedAt = performance.now();
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
    fills: [],
  };
  const facts: ServerFacts = { peakRssMiB: {}, coldStartMs: {}, thumbnailFirst: [] };
  const loadSamples: number[] = [];
  const sampler = setInterval(() => loadSamples.push(loadavg()[0]!), 10_000);
  try {
    log('preparing SQLite data ...');
    const small = await sqliteData('sqlite-small', SMALL_ROWS, false);
    const large = runs('api') || runs('search') ? await timedFill(info, 'SQLite', () => sqliteData(`sqlite-${largeRows}-v${CATALOGUE_VERSION}`, largeRows, true)) : undefined;
    const baselineEnv = runs('api') || runs('s3') ? await baselineBodies(small) : {};
    if (large !== undefined) await benchEngine('sqlite', small, large, baselineEnv, facts);
    if (runs('thumbnails')) await benchThumbnails('sqlite', small, facts);

    if (!runs('s3')) info.notes.push('Object-store cases not run (--only).');
    else if (args['no-s3']) info.notes.push('Object-store cases skipped (--no-s3).');
    else await benchObjectStore(baselineEnv, facts, info);

    if (!runs('api') && !runs('search')) info.notes.push('MySQL not run: no MySQL case group selected (--only).');
    else if (args['no-mysql']) info.notes.push('MySQL skipped (--no-mysql).');
    else if (mariadbBinary() === undefined) info.notes.push('MySQL skipped: no mariadbd/mysqld binary installed.');
    else {
      log('starting MariaDB ...');
      const mariadb = await startMariadb(join(BENCH_DIR, 'mariadb'));
      try {
        info.notes.push(`MySQL target: MariaDB ${mariadb.version}, throwaway server on loopback (innodb_buffer_pool_size 512M).`);
        const mysqlSmall = await mysqlData(mariadb, 'bench_small', SMALL_ROWS, false);
        const mysqlBig = await timedFill(info, 'MariaDB', () => mysqlData(mariadb, `bench_${mysqlLargeRows}_v${CATALOGUE_VERSION}`, mysqlLargeRows, true), mariadb.pid);
        await benchEngine('mysql', mysqlSmall, mysqlBig, baselineEnv, facts);
      } finally {
        await mariadb.stop();
      }
    }
  } finally {
    clearInterval(sampler);
  }
  info.loadAverageEnd = loadavg()[0]!;
  info.loadAverageMax = Math.max(info.loadAverage, info.loadAverageEnd, ...loadSamples);
  info.minutes = (performance.now() - startedAt) / 60_000;
  const markdown = await writeReport(info, rows, facts, { write: (!args.quick || args.write) && !args['no-write'] });
  process.stdout.write(`${markdown}\n`);
}

/**
 * Prepares a large catalogue; when it had to be filled, records how long that took, in wall time and in
 * CPU time (this process, which runs SQLite's load, plus the database server's, when given).
 */
async function timedFill(info: RunInfo, engine: string, prepare: () => Promise<BenchData>, serverPid?: number): Promise<BenchData> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const serverBefore = serverPid === undefined ? 0 : await cpuSeconds(serverPid);
  const data = await prepare();
  const cpu = process.cpuUsage(cpuBefore);
  const serverCpu = serverPid === undefined ? 0 : (await cpuSeconds(serverPid)) - serverBefore;
  if (data.filledRows > 0) {
    info.fills.push({ engine, rows: data.filledRows, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 + serverCpu, loadAverage: loadavg()[0]! });
  }
  return data;
}

await main();
