import { BadRequestError } from '../../core/errors.js';
import type { ListingKey } from '../../data/image-repository.js';

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Listing keys are creation times the server stamped itself; DATETIME(3) on MySQL holds years 1000-9999.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Cursors are opaque to clients: base64url (unpadded) of the last row's listing key, `createdAt|guid`. */
export function encodeCursor(key: ListingKey): string {
  return Buffer.from(`${key.createdAt}|${key.guid}`, 'utf8').toString('base64url');
}

function forged(): BadRequestError {
  return new BadRequestError('The "after" cursor is not one this server issued', {
    errors: [{ path: '/querystring/after', message: 'is not a valid cursor' }],
  });
}

/**
 * The listing key a cursor from encodeCursor() carries. Only what this server could have issued is
 * accepted, so the two database engines never see a key they would read differently: the time must
 * be a real instant in RFC 3339 UTC with milliseconds (no 2026-13-45, no 24:00), between 1970 and
 * 9999, the guid a lowercase UUID, and the cursor the one canonical encoding of that key (Node's
 * base64url decoder skips foreign characters and padding, so a different spelling would otherwise
 * name the same key).
 * @throws BadRequestError with `errors[0].path` `/querystring/after` (docs/API.md, GET /image)
 */
export function decodeCursor(cursor: string): ListingKey {
  const [createdAt = '', guid = '', ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !TIME.test(createdAt) || !UUID.test(guid)) throw forged();
  const time = Date.parse(createdAt);
  if (Number.isNaN(time) || time < EARLIEST || time > LATEST || new Date(time).toISOString() !== createdAt) throw forged();
  const key = { createdAt, guid };
  if (encodeCursor(key) !== cursor) throw forged();
  return key;
}
