import type { FastifyRequest } from 'fastify';
import { AuthenticationError } from '../core/errors.js';
import type { AccessService } from '../service/access/index.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface BasicCredentials {
  username: string;
  password: string;
}

/** RFC 7617 credentials from an Authorization header; undefined when absent or malformed. */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic +(\S+) *$/i.exec(header);
  const encoded = match?.[1];
  if (encoded === undefined || encoded.length > 4096 || !BASE64.test(encoded)) return undefined;
  // RFC 7617 section 2.1 (charset="UTF-8"): bytes that are not UTF-8 are malformed credentials, not
  // U+FFFD, which would let different byte strings stand for the same password.
  let decoded: string;
  try {
    decoded = STRICT_UTF8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const NEEDS_CREDENTIALS = 'This endpoint needs HTTP Basic credentials';

/**
 * An onRequest hook for the private router: sets request.user or fails before the body is read.
 * It parses the header, makes the one login call (`access.authenticate`, which applies the
 * failed-login limits: 429 before any password is hashed) and logs a refused password.
 * @throws AuthenticationError (401) for missing, malformed or wrong credentials; TooManyRequestsError (429)
 */
export function basicAuth(access: AccessService) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    const credentials = parseBasicAuthorization(header);
    if (credentials === undefined) {
      // A missing header is the normal first step of the Basic challenge; a garbled one is a failure.
      if (header !== undefined) access.refuseMalformedCredentials(request.ip, NEEDS_CREDENTIALS);
      throw new AuthenticationError(NEEDS_CREDENTIALS);
    }
    const { username, password } = credentials;
    try {
      request.user = await access.authenticate(request.ip, username, password);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        request.log.info({ username: username.slice(0, 64), remote_address: request.ip }, 'authentication failed');
      }
      throw error;
    }
  };
}
