import { readFile, writeFile } from 'node:fs/promises';
import type { LoadResult } from './load.js';

export interface CaseRow extends LoadResult {
  /** The engine run this row belongs to; its baseline rows were measured alongside. */
  group: string;
  target: string;
  name: string;
  rowsInDb: number | undefined;
  /** CPU the server process used during the measured run, in percent of one core (all its threads). */
  serverCpuPercent: number;
  /** Connections the client kept open (requests in flight at once). */
  connections: number;
  /** CPU the object store's processes used during the measured run (a store started by the bench), in percent of one core. */
  storeCpuPercent?: number;
}

export interface RunInfo {
  date: string;
  command: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  loadAverage: number;
  loadAverageEnd?: number;
  /** Highest 1-minute load average seen during the run (sampled every 10 s). */
  loadAverageMax?: number;
  /** Wall time of the whole run, fills included. */
  minutes?: number;
  /** Large catalogues this run had to fill, and how long each took (fill and indexes). */
  fills: { engine: string; rows: number; seconds: number; cpuSeconds: number; loadAverage: number }[];
  connections: number;
  client: string;
  warmupSeconds: number;
  seconds: number;
  notes: string[];
}

/** Per pixyproxy server ("sqlite, 1000 rows"): its peak RSS over the whole run and its cold start. */
export interface ServerFacts {
  peakRssMiB: Record<string, number>;
  coldStartMs: Record<string, number>;
  baselinePeakRssMiB?: number;
  /** First requests of thumbnail variants (resize, encode, store), one at a time, per width and format. */
  thumbnailFirst: { group: string; width: number; contentType: string; bytes: number; samples: number; p50Ms: number; maxMs: number }[];
}

const REPORT_FILE = 'docs/BENCHMARKS.md';
const START = '<!-- bench:start (written by npm run bench) -->';
const END = '<!-- bench:end -->';

// Which baseline case each pixyproxy case is compared with, and by which measure.
const LIST_BASELINE = { name: 'GET /image?limit=50', by: 'req' } as const;
const BASELINE_OF: Record<string, { name: string; by: 'req' | 'bytes' }> = {
  'GET /image/{guid}': { name: 'GET /image/{guid}', by: 'req' },
  'GET /image?limit=50': LIST_BASELINE,
  'GET /image?limit=50&after=': LIST_BASELINE,
  'GET /image?limit=50&tag=': LIST_BASELINE,
  'GET /image?limit=50&author=': LIST_BASELINE,
  'GET content (64 KiB)': { name: 'GET content (64 KiB)', by: 'bytes' },
  'GET content (1 MiB)': { name: 'GET content (1 MiB)', by: 'bytes' },
  'GET content, If-None-Match (304)': { name: 'GET content, If-None-Match (304)', by: 'req' },
};

/**
 * The client was the limit when it used (nearly) all the cores it can use: wrk's threads or the
 * autocannon workers each saturate at most one core.
 */
export function clientBound(row: LoadResult): boolean {
  return row.clientCpuPercent >= 90 * row.clientCores;
}

function baselineOf(row: CaseRow, rows: readonly CaseRow[]): CaseRow | undefined {
  const reference = BASELINE_OF[row.name];
  if (row.target === 'baseline' || reference === undefined) return undefined;
  return rows.find((r) => r.target === 'baseline' && r.group === row.group && r.name === reference.name);
}

function ratio(row: CaseRow, rows: readonly CaseRow[]): number | undefined {
  const base = baselineOf(row, rows);
  if (base === undefined) return undefined;
  return BASELINE_OF[row.name]!.by === 'bytes' ? row.bytesPerSec / base.bytesPerSec : row.reqPerSec / base.reqPerSec;
}

/** Server CPU time per request, in µs: steadier than req/s when other work shares the cores. */
export function cpuPerRequestUs(row: CaseRow): number {
  return (row.serverCpuPercent / 100) * 1e6 / Math.max(row.reqPerSec, 1e-9);
}

/**
 * The baseline's CPU per request (or per byte) over pixyproxy's: the rate ratio both would reach if
 * each had one core to itself. Less at the mercy of the machine's other load than the measured ratio.
 */
function cpuRatio(row: CaseRow, rows: readonly CaseRow[]): number | undefined {
  const base = baselineOf(row, rows);
  if (base === undefined) return undefined;
  const perUnit = (r: CaseRow) => (BASELINE_OF[r.name]!.by === 'bytes' ? r.serverCpuPercent / Math.max(r.bytesPerSec, 1e-9) : cpuPerRequestUs(r));
  return perUnit(base) / perUnit(row);
}

const fixed = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

function table(rows: readonly CaseRow[]): string {
  const lines = [
    '| run | target | case | rows in db | conns | req/s | MiB/s | p50 ms | p99 ms | vs baseline | server CPU | CPU µs/req | vs baseline by CPU | client CPU | failed |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const r = ratio(row, rows);
    const by = BASELINE_OF[row.name]?.by === 'bytes' ? ' (bytes/s)' : '';
    const versus = row.target === 'baseline' ? '1.00' : r === undefined ? 'n/a' : `${r.toFixed(2)}${by}`;
    const clientCpu = `${row.clientCpuPercent.toFixed(0)}%${clientBound(row) ? ' **client-bound**' : ''}`;
    const c = cpuRatio(row, rows);
    const byCpu = row.target === 'baseline' ? '1.00' : c === undefined ? 'n/a' : c.toFixed(2);
    lines.push(
      `| ${row.group} | ${row.target} | ${row.name} | ${row.rowsInDb === undefined ? '' : fixed(row.rowsInDb)} | ${row.connections} | ${fixed(row.reqPerSec)} | ` +
        `${fixed(row.bytesPerSec / 2 ** 20, 1)} | ${ms(row.p50)} | ${ms(row.p99)} | ${versus} | ${row.serverCpuPercent.toFixed(0)}%${row.storeCpuPercent === undefined ? '' : ` (+ store ${row.storeCpuPercent.toFixed(0)}%)`} | ${fixed(cpuPerRequestUs(row))} | ${byCpu} | ${clientCpu} | ${row.failures} |`,
    );
  }
  return lines.join('\n');
}

/** The name of the search case whose term is in 1 row of 5 (bench/run.ts), which has a latency target. */
const COMMON_SEARCH_SUFFIX = '(1 row in 5)';
/** Targets of content served from the object store: none of their own, reported beside the file store's. */
const OBJECT_STORE_TARGETS = new Set(['s3', 's3, no cache']);

/**
 * The object-store content ratios next to the file store's (SQLite run): the issue sets no target for
 * them, so they are reported, not judged.
 */
function objectStoreLines(rows: readonly CaseRow[]): string[] {
  const cases = [['64 KiB', 'GET content (64 KiB)'], ['1 MiB', 'GET content (1 MiB)'], ['304', 'GET content, If-None-Match (304)']] as const;
  const describe = (target: string) =>
    cases
      .map(([label, name]) => {
        const row = rows.find((r) => r.target === target && r.name === name);
        const value = row && ratio(row, rows);
        return `${label} ${value === undefined ? 'not measured' : value.toFixed(2)}`;
      })
      .join(', ');
  return [...OBJECT_STORE_TARGETS]
    .filter((target) => rows.some((r) => r.target === target))
    .map((target) => `- Object store (${target}), of baseline bytes/s (304: req/s), no target of its own: ${describe(target)}; file store (sqlite): ${describe('sqlite')}`);
}

/** The issue's targets, as ratios to the baseline measured in the same run. */
const TARGETS: Record<string, { detail: number; notModified: number; content: number; list: number | undefined }> = {
  sqlite: { detail: 0.5, notModified: 0.6, content: 0.5, list: 0.25 },
  mysql: { detail: 0.35, notModified: 0.6, content: 0.5, list: undefined },
};

function targets(rows: readonly CaseRow[], facts: ServerFacts, target: string): string[] {
  const goal = TARGETS[target] ?? TARGETS['mysql']!;
  const find = (name: string, smallest: boolean) =>
    rows
      .filter((r) => r.target === target && r.name === name)
      .sort((a, b) => (smallest ? 1 : -1) * ((a.rowsInDb ?? 0) - (b.rowsInDb ?? 0)))[0];
  const out: string[] = [];
  const check = (label: string, value: number | undefined, limit: number, atMost: boolean, show: (v: number) => string, row?: CaseRow) => {
    if (value === undefined || Number.isNaN(value)) return out.push(`- ${label}: not measured`);
    const met = atMost ? value <= limit : value >= limit;
    const base = row && rows.find((r) => r.target === 'baseline' && r.group === row.group && r.name === BASELINE_OF[row.name]?.name);
    const caveat = base && clientBound(base) ? ' (the client was the limit on the baseline: the true ratio is lower)' : '';
    out.push(`- ${label}: ${show(value)} — **${met ? 'met' : 'missed'}**${caveat}`);
  };
  const ratioCheck = (label: string, name: string, limit: number | undefined, by = 'req/s') => {
    if (limit === undefined) return;
    const row = find(name, true);
    const byCpu = row && cpuRatio(row, rows);
    check(`${label} >= ${limit.toFixed(2)} of baseline ${by} (${target})`, row && ratio(row, rows), limit, false, (v) =>
      `${v.toFixed(2)}${byCpu === undefined ? '' : ` (by server CPU per ${by === 'req/s' ? 'request' : 'byte'}: ${byCpu.toFixed(2)})`}`, row);
  };
  ratioCheck('GET detail', 'GET /image/{guid}', goal.detail);
  ratioCheck('304 revalidation', 'GET content, If-None-Match (304)', goal.notModified);
  ratioCheck('GET content (64 KiB)', 'GET content (64 KiB)', goal.content, 'bytes/s');
  ratioCheck('GET content (1 MiB)', 'GET content (1 MiB)', goal.content, 'bytes/s');
  ratioCheck('GET list, 50 rows', 'GET /image?limit=50', goal.list);
  const listSmall = find('GET /image?limit=50', true);
  const listLarge = find('GET /image?limit=50', false);
  if (listSmall && listLarge && listSmall !== listLarge) {
    check(
      `list p50 at ${fixed(listLarge.rowsInDb ?? 0)} rows <= 1.5x p50 at ${fixed(listSmall.rowsInDb ?? 0)} rows (${target})`,
      listLarge.p50 / Math.max(listSmall.p50, 1e-9),
      1.5,
      true,
      (v) => `${ms(listLarge.p50)} ms vs ${ms(listSmall.p50)} ms = ${v.toFixed(2)}x`,
    );
  }
  const search = rows.filter((r) => r.target === target && r.name.endsWith(COMMON_SEARCH_SUFFIX)).sort((a, b) => (b.rowsInDb ?? 0) - (a.rowsInDb ?? 0))[0];
  if (search !== undefined) {
    check(`search p50 for a term in 20% of the rows, at ${fixed(search.rowsInDb ?? 0)} rows, <= 100 ms (${target})`, search.p50, 100, true, (v) =>
      `${ms(v)} ms (p99 ${ms(search.p99)} ms, one request at a time)`,
    );
  }
  const rss = Object.entries(facts.peakRssMiB).filter(([label]) => label.startsWith(`${target},`));
  check(`server peak RSS <= 150 MiB through the whole run (${target})`, rss.length ? Math.max(...rss.map(([, mib]) => mib)) : undefined, 150, true, (v) =>
    `${v.toFixed(0)} MiB (${rss.map(([label, mib]) => `${label}: ${mib.toFixed(0)}`).join('; ')})`,
  );
  const starts = Object.entries(facts.coldStartMs).filter(([label]) => label.startsWith(`${target},`));
  check(`cold start <= 500 ms, process start to first 200 on /health (${target})`, starts.length ? Math.max(...starts.map(([, t]) => t)) : undefined, 500, true, (v) =>
    `${v.toFixed(0)} ms (${starts.map(([label, t]) => `${label}: ${t.toFixed(0)}`).join('; ')})`,
  );
  return out;
}

/** The generated section: run details, the table and the targets. */
export function renderSection(info: RunInfo, rows: readonly CaseRow[], facts: ServerFacts): string {
  const engines = [...new Set(rows.map((r) => r.target).filter((t) => t !== 'baseline' && !OBJECT_STORE_TARGETS.has(t)))];
  const bound = rows.filter(clientBound);
  const thumbnails = facts.thumbnailFirst.length
    ? [
        '',
        `Thumbnails, first request of each variant (resize with sharp, encode, store), one at a time, over ${facts.thumbnailFirst[0]!.samples} 1024x1024 PNG originals:`,
        '',
        '| run | width | format (from Accept) | bytes | p50 ms | max ms |',
        '|---|---:|---|---:|---:|---:|',
        ...facts.thumbnailFirst.map((t) => `| ${t.group} | ${t.width} | ${t.contentType} | ${fixed(t.bytes)} | ${t.p50Ms.toFixed(0)} | ${t.maxMs.toFixed(0)} |`),
      ]
    : [];
  return [
    START,
    `Latest run: ${info.date} — \`${info.command}\``,
    '',
    `Machine: ${info.cores} cores (${info.cpu}), ${info.memoryGiB.toFixed(0)} GiB RAM, Node ${info.node}; ` +
      `1-minute load average ${info.loadAverage.toFixed(1)} at the start, ${info.loadAverageEnd?.toFixed(1) ?? '?'} at the end, ` +
      `${info.loadAverageMax?.toFixed(1) ?? '?'} at most; ${info.minutes?.toFixed(0) ?? '?'} minutes in all. ` +
      `Client: ${info.client}, in its own process on this machine; ${info.connections} connections ` +
      `(4 for POST, 1 for search: see "conns"), ${info.warmupSeconds} s warm-up then ${info.seconds} s per case. ` +
      'Server log lines (two per request, level info) go to /dev/null. CPU columns are percent of one core ' +
      '("+ store": the object store\'s own processes, when the bench started it); ' +
      'a client at 90% or more of the cores it can use is marked **client-bound**: there the client, not the server, set the rate. ' +
      '"vs baseline by CPU" is the baseline\'s server CPU per request (per byte for content) over pixyproxy\'s: the ratio each ' +
      'would reach with a core to itself, steadier than the measured ratio when other work shares the machine.',
    ...info.notes.map((note) => `\n${note}`),
    ...info.fills.map(
      (fill) =>
        `\nFilled ${fixed(fill.rows)} ${fill.engine} rows in this run (rows, tags and the search index): ${fill.seconds.toFixed(0)} s wall, ` +
        `${fill.cpuSeconds.toFixed(0)} s of CPU (the bench process and the database server), load average ${fill.loadAverage.toFixed(1)} at the end.`,
    ),
    '',
    table(rows),
    ...thumbnails,
    '',
    bound.length
      ? `Client-bound cases: ${bound.map((r) => `${r.group}/${r.target} ${r.name}`).join('; ')}.`
      : 'No case was client-bound.',
    `Peak RSS per server: ${Object.entries(facts.peakRssMiB).map(([label, mib]) => `${label}: ${mib.toFixed(0)} MiB`).join('; ')}. ` +
      `Baseline server peak RSS: ${facts.baselinePeakRssMiB?.toFixed(0) ?? '?'} MiB.`,
    '',
    '**Targets**',
    '',
    ...engines.flatMap((engine) => targets(rows, facts, engine)),
    ...objectStoreLines(rows),
    END,
  ].join('\n');
}

export async function writeReport(info: RunInfo, rows: readonly CaseRow[], facts: ServerFacts, options: { write: boolean }) {
  const section = renderSection(info, rows, facts);
  if (!options.write) return section;
  const current = await readFile(REPORT_FILE, 'utf8').catch(() => `# Benchmarks\n\n${START}\n${END}\n`);
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next = start >= 0 && end > start ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}` : `${current}\n${section}\n`;
  await writeFile(REPORT_FILE, next);
  return section;
}
