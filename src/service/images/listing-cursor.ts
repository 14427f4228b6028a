import { BadRequestError } from '../../core/errors.js';
import type { ListingKey } from '../../data/image-repository.js';

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Cursors are opaque to clients: base64url of the last row's listing key. */
export function encodeCursor(key: ListingKey): string {
  return Buffer.from(`${key.createdAt}|${key.guid}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListingKey {
  const [createdAt = '', guid = '', ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !TIME.test(createdAt) || !UUID.test(guid)) {
    throw new BadRequestError('The "after" cursor is not one this server issued', {
      errors: [{ path: '/querystring/after', message: 'is not a valid cursor' }],
    });
  }
  return { createdAt, guid };
}
