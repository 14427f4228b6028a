import type { UsageReport } from '../core/models/usage.js';

const COLUMNS = [
  'group',
  'images',
  'input_tokens',
  'input_text_tokens',
  'input_image_tokens',
  'output_tokens',
  'output_image_tokens',
  'output_text_tokens',
  'total_tokens',
  'cost_usd',
] as const;

/**
 * One CSV field (RFC 4180 section 2): quoted when it holds a comma, quote or line break. A text that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first: OWASP "CSV Injection") gets a leading
 * apostrophe, so a username or model name is shown, never evaluated.
 */
function field(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * GET /usage as `text/csv` (RFC 4180, with `header=present`, RFC 7111): a header line, one line per
 * group, then a `total` line; CRLF line ends. The same numbers as the JSON answer.
 */
export function usageCsv(report: UsageReport): string {
  const lines = [COLUMNS.join(',')];
  for (const row of report.rows) lines.push(COLUMNS.map((column) => field(row[column])).join(','));
  lines.push(['total', ...COLUMNS.slice(1).map((column) => field(report.total[column as Exclude<(typeof COLUMNS)[number], 'group'>]))].join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Whether the client prefers CSV over JSON by its Accept header (RFC 9110 section 12.5.1): the higher
 * q wins, a tie goes to the earlier one, JSON when neither is named.
 */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { csv: boolean; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((piece) => piece.trim());
    const csv = type === 'text/csv';
    if (!csv && type !== 'application/json') continue;
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    if (best === undefined || q > best.q) best = { csv, q };
  }
  return best?.csv ?? false;
}
