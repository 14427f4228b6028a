import { readFile, writeFile } from 'node:fs/promises';
import type { LoadResult } from './load.js';

export interface CaseRow extends LoadResult {
  /** The engine run this row belongs to; its baseline rows were measured alongside. */
  group: string;
  target: string;
  name: string;
  rowsInDb: number | undefined;
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
  connections: number;
  warmupSeconds: number;
  seconds: number;
  notes: string[];
}

const REPORT_FILE = 'docs/BENCHMARKS.md';
const START = '<!-- bench:start (written by npm run bench) -->';
const END = '<!-- bench:end -->';

// Which baseline case each pixyproxy case is compared with, and by which measure.
const BASELINE_OF: Record<string, { name: string; by: 'req' | 'bytes' }> = {
  'GET /image/{guid}': { name: 'GET /image/{guid}', by: 'req' },
  'GET /image?limit=50': { name: 'GET /image?limit=50', by: 'req' },
  'GET /image?limit=50&tag=': { name: 'GET /image?limit=50', by: 'req' },
  'GET content (1 MiB)': { name: 'GET content (1 MiB)', by: 'bytes' },
  'GET content, If-None-Match (304)': { name: 'GET content, If-None-Match (304)', by: 'req' },
};

function ratio(row: CaseRow, rows: readonly CaseRow[]): number | undefined {
  const reference = BASELINE_OF[row.name];
  if (row.target === 'baseline' || reference === undefined) return undefined;
  const base = rows.find((r) => r.target === 'baseline' && r.group === row.group && r.name === reference.name);
  if (base === undefined) return undefined;
  return reference.by === 'bytes' ? row.bytesPerSec / base.bytesPerSec : row.reqPerSec / base.reqPerSec;
}

const fixed = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: readonly CaseRow[]): string {
  const lines = [
    '| run | target | case | rows in db | req/s | MiB/s | p50 ms | p99 ms | mean ms | vs baseline | failed |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const r = ratio(row, rows);
    const by = BASELINE_OF[row.name]?.by === 'bytes' ? ' (bytes/s)' : '';
    const versus = row.target === 'baseline' ? '1.00' : r === undefined ? 'n/a' : `${r.toFixed(2)}${by}`;
    lines.push(
      `| ${row.group} | ${row.target} | ${row.name} | ${row.rowsInDb === undefined ? '' : fixed(row.rowsInDb)} | ${fixed(row.reqPerSec)} | ` +
        `${fixed(row.bytesPerSec / 2 ** 20, 1)} | ${row.p50} | ${row.p99} | ${row.meanMs.toFixed(2)} | ${versus} | ${row.failures} |`,
    );
  }
  return lines.join('\n');
}

function targets(rows: readonly CaseRow[], peaks: Record<string, number>, target: string): string[] {
  const find = (name: string, smallest: boolean) =>
    rows
      .filter((r) => r.target === target && r.name === name)
      .sort((a, b) => (smallest ? 1 : -1) * ((a.rowsInDb ?? 0) - (b.rowsInDb ?? 0)))[0];
  const out: string[] = [];
  const check = (label: string, value: number | undefined, limit: number, atMost: boolean, show: (v: number) => string) => {
    if (value === undefined || Number.isNaN(value)) return out.push(`- ${label}: not measured`);
    const met = atMost ? value <= limit : value >= limit;
    out.push(`- ${label}: ${show(value)} — **${met ? 'met' : 'missed'}**`);
  };
  const detail = find('GET /image/{guid}', true);
  check(`GET detail >= 0.60 of baseline req/s (${target})`, detail && ratio(detail, rows), 0.6, false, (v) => v.toFixed(2));
  const notModified = find('GET content, If-None-Match (304)', true);
  check(`304 revalidation >= 0.70 of baseline req/s (${target})`, notModified && ratio(notModified, rows), 0.7, false, (v) => v.toFixed(2));
  const content = find('GET content (1 MiB)', true);
  check(`GET content (1 MiB) >= 0.50 of baseline bytes/s (${target})`, content && ratio(content, rows), 0.5, false, (v) => v.toFixed(2));
  const listSmall = find('GET /image?limit=50', true);
  const listLarge = find('GET /image?limit=50', false);
  if (listSmall && listLarge) {
    check(
      `list p50 at ${fixed(listLarge.rowsInDb ?? 0)} rows <= 1.5x p50 at ${fixed(listSmall.rowsInDb ?? 0)} rows (${target})`,
      listLarge.p50 / Math.max(listSmall.p50, 1e-9),
      1.5,
      true,
      (v) => `${listLarge.p50} ms vs ${listSmall.p50} ms = ${v.toFixed(2)}x (means ${listLarge.meanMs.toFixed(2)} vs ${listSmall.meanMs.toFixed(2)} ms)`,
    );
  }
  const rss = Object.entries(peaks).filter(([label]) => label.startsWith(target));
  const worst = Math.max(...rss.map(([, mib]) => mib));
  check(`server peak RSS <= 150 MiB (${target})`, rss.length ? worst : undefined, 150, true, (v) =>
    `${v.toFixed(0)} MiB (${rss.map(([label, mib]) => `${label}: ${mib.toFixed(0)}`).join('; ')})`,
  );
  return out;
}

/** The generated section: run details, the table and the targets. */
export function renderSection(info: RunInfo, rows: readonly CaseRow[], peaks: Record<string, number>): string {
  const engines = [...new Set(rows.map((r) => r.target).filter((t) => t !== 'baseline'))];
  return [
    START,
    `Latest run: ${info.date} — \`${info.command}\``,
    '',
    `Machine: ${info.cores} cores (${info.cpu}), ${info.memoryGiB.toFixed(0)} GiB RAM, Node ${info.node}; ` +
      `1-minute load average ${info.loadAverage.toFixed(1)} at the start, ${info.loadAverageEnd?.toFixed(1) ?? '?'} at the end. ` +
      `Client (autocannon) and server in separate processes on this machine; ${info.connections} connections ` +
      `(4 for POST), ${info.warmupSeconds} s warm-up then ${info.seconds} s per case. ` +
      'Server log lines (two per request, level info) go to /dev/null.',
    ...info.notes.map((note) => `\n${note}`),
    '',
    table(rows),
    '',
    '**Targets**',
    '',
    ...engines.flatMap((engine) => targets(rows, peaks, engine)),
    END,
  ].join('\n');
}

export async function writeReport(info: RunInfo, rows: readonly CaseRow[], peaks: Record<string, number>, options: { write: boolean }) {
  const section = renderSection(info, rows, peaks);
  if (!options.write) return section;
  const current = await readFile(REPORT_FILE, 'utf8').catch(() => `# Benchmarks\n\n${START}\n${END}\n`);
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next = start >= 0 && end > start ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}` : `${current}\n${section}\n`;
  await writeFile(REPORT_FILE, next);
  return section;
}
