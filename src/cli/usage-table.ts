import type { UsageReport, UsageTotals } from '../core/models/usage.js';

const HEADERS = ['images', 'input tokens', 'text in', 'image in', 'output tokens', 'total tokens', 'cost USD'] as const;

function cells(totals: UsageTotals): string[] {
  return [
    String(totals.images),
    String(totals.input_tokens),
    String(totals.input_text_tokens),
    String(totals.input_image_tokens),
    String(totals.output_tokens),
    String(totals.total_tokens),
    totals.cost_usd,
  ];
}

/**
 * `pixyproxy usage` output: the report as an aligned text table (group left-aligned, numbers right),
 * a rule, and a total line; the period and grouping on top. Same numbers as GET /usage.
 */
export function usageTable(report: UsageReport): string {
  const head = [report.group_by, ...HEADERS];
  const body = report.rows.map((row) => [row.group, ...cells(row)]);
  const total = ['total', ...cells(report.total)];
  const widths = head.map((_, column) => Math.max(...[head, ...body, total].map((line) => line[column]!.length)));
  const format = (line: string[]) =>
    line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [
    `usage from ${report.from} to ${report.to ?? 'now'}, by ${report.group_by}`,
    format(head),
    rule,
    ...body.map(format),
    rule,
    format(total),
  ].join('\n');
}
