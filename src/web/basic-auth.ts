import type { FastifyRequest } from 'fastify';
import { AuthenticationError } from '../core/errors.js';
import type { UserService } from '../service/user-service.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

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
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** An onRequest hook for the private router: sets request.user or fails with 401 before the body is read. */
export function basicAuth(users: UserService) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const credentials = parseBasicAuthorization(request.headers.authorization);
    if (credentials === undefined) {
      throw new AuthenticationError('This endpoint needs HTTP Basic credentials');
    }
    request.user = await users.verifyCredentials(credentials.username, credentials.password);
  };
}
