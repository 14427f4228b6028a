/**
 * Timestamps are stored as 'YYYY-MM-DD HH:MM:SS.sss' UTC: a DATETIME(3) literal in MySQL and a text
 * that sorts chronologically in SQLite, so both engines share the keyset SQL.
 */
export function toSqlTime(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, '');
}

export function fromSqlTime(value: string | Date): string {
  if (value instanceof Date) return value.toISOString();
  return `${value.replace(' ', 'T')}Z`;
}
