import type { FastifyRequest } from 'fastify';
import { AuthenticationError } from '../core/errors.js';
import type { AccessService, Credentials } from '../service/access/index.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// RFC 6750 section 2.1: `Bearer 1*SP b64token`, the scheme name case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

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

/** The credentials of an Authorization header, Basic or Bearer; undefined when absent or malformed. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const bearer = header.length <= 4096 ? BEARER.exec(header)?.[1] : undefined;
  if (bearer !== undefined) return { scheme: 'bearer', token: bearer };
  const basic = parseBasicAuthorization(header);
  return basic && { scheme: 'basic', ...basic };
}

const NEEDS_CREDENTIALS = 'This endpoint needs HTTP Basic credentials or an API key (Bearer)';

/**
 * An onRequest hook for private routers: sets request.user (and request.authScheme) or fails before
 * the body is read. It parses the header, makes the one login call (`access.authenticate`, which
 * applies the failed-login limits: 429 before any password is hashed) and logs a refusal, with the
 * username for Basic and nothing of the token for Bearer.
 * @throws AuthenticationError (401) for missing, malformed or wrong credentials; TooManyRequestsError (429);
 *   SharedStateUnavailableError (503) when the shared limits' Redis is down
 */
export function authenticateRequest(access: AccessService) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    const credentials = parseAuthorization(header);
    if (credentials === undefined) {
      // A missing header is the normal first step of the challenge; a garbled one is a failure.
      if (header !== undefined) await access.refuseMalformedCredentials(request.ip, NEEDS_CREDENTIALS);
      throw new AuthenticationError(NEEDS_CREDENTIALS);
    }
    request.authScheme = credentials.scheme;
    try {
      request.user = await access.authenticate(request.ip, credentials);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        const who = credentials.scheme === 'basic' ? { username: credentials.username.slice(0, 64) } : {};
        request.log.info({ scheme: credentials.scheme, ...who, remote_address: request.ip }, 'authentication failed');
      }
      throw error;
    }
  };
}

/**
 * The `WWW-Authenticate` value of a 401 on the private endpoints (RFC 9110 section 11.6.1): both
 * schemes are offered; a refused bearer token adds `error="invalid_token"` (RFC 6750 section 3.1).
 */
export function challengeFor(request: FastifyRequest): string {
  const bearer = request.authScheme === 'bearer' ? 'Bearer realm="pixyproxy", error="invalid_token"' : 'Bearer realm="pixyproxy"';
  return `Basic realm="pixyproxy", charset="UTF-8", ${bearer}`;
}
