import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_KEY_TOKEN_PREFIX } from '../../core/models/api-key.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 43 base62 characters carry 43 x log2(62) = 256.03 bits. */
const SECRET_LENGTH = 43;
const TOKEN = new RegExp(`^${API_KEY_TOKEN_PREFIX}[0-9A-Za-z]{${SECRET_LENGTH}}$`);
/** How much of the token is kept in clear, to recognise a key in a list: `pxy_` and 8 characters (47 bits). */
const DISPLAY_PREFIX_LENGTH = API_KEY_TOKEN_PREFIX.length + 8;

/**
 * Uniform base62 text from crypto.randomBytes. Bytes of 248 and above are dropped (rejection
 * sampling): 248 = 4 x 62, so `byte % 62` is unbiased on what remains.
 */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new bearer token: `pxy_` and 43 base62 characters (256 bits from the CSPRNG), with what is stored of it. */
export function newApiKeyToken(): { token: string; tokenHash: string; prefix: string } {
  const token = `${API_KEY_TOKEN_PREFIX}${randomBase62(SECRET_LENGTH)}`;
  return { token, tokenHash: hashApiKeyToken(token), prefix: token.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** A random key id: 16 lowercase hex digits (API_KEY_ID_PATTERN). Not secret; it names the key in lists. */
export function newApiKeyId(): string {
  return randomBytes(8).toString('hex');
}

/** True when the text has the shape of a pixyproxy token; anything else is refused before a lookup. */
export function looksLikeApiKeyToken(text: string): boolean {
  return TOKEN.test(text);
}

/**
 * The stored form of a token: its SHA-256 as lowercase hex. A fast hash is right here, unlike for
 * passwords: a token has 256 random bits, so a stolen hash cannot be reversed by guessing however
 * fast each guess is, and a slow KDF would cost every bearer request for no gain. It also makes the
 * hash a lookup key (one unique-index probe), which a salted KDF could not be.
 */
export function hashApiKeyToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex SHA-256 digests (RFC 6750 section 5.2 advice against timing leaks). */
export function sameTokenHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}
