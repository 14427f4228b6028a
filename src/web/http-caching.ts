import { parseHttpDate } from '../core/http-date.js';
import type { ByteRange } from '../service/storage/index.js';

/** Strong entity tag from the sha-256 of the bytes, which never change for a guid. */
export function entityTag(sha256: string): string {
  return `"${sha256}"`;
}

/** RFC 9110 13.1.2: If-None-Match uses weak comparison, and "*" matches any current representation. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

/**
 * RFC 9110 13.1.3: not modified when the resource's second-precision time is not after the date.
 * A value that is not an HTTP-date is ignored (false), as RFC 9110 13.1.3 requires.
 */
export function notModifiedSince(header: string | undefined, lastModified: Date): boolean {
  if (header === undefined) return false;
  const since = parseHttpDate(header.trim());
  if (since === undefined) return false;
  return Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

export type RangeRequest = { kind: 'none' } | { kind: 'range'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * A single `bytes=` range (RFC 9110 14.1.2). Multiple ranges, other units and syntax errors are
 * answered with the whole representation, as the RFC allows; a well-formed range past the end is
 * unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'none' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: 'none' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'none' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end } };
}

/** If-Range (RFC 9110 13.1.5): honour Range only when the validator still matches. */
export function ifRangeAllows(header: string | undefined, etag: string, lastModified: Date): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  if (value.startsWith('"')) return value === etag;
  if (value.startsWith('W/')) return false;
  const date = parseHttpDate(value);
  return date !== undefined && Math.floor(lastModified.getTime() / 1000) * 1000 === date;
}
