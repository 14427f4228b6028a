import type { FastifyBaseLogger } from 'fastify';
import type { User } from '../core/models/user.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The logger of the two request lines (web/request-logging.ts): the app's, without redaction. */
    requestLines: FastifyBaseLogger;
  }

  interface FastifyRequest {
    /** The authenticated caller on private routes; null on public ones. */
    user: User | null;
    /** The scheme of the credentials the request presented on a private route (set even when refused). */
    authScheme: 'basic' | 'bearer' | null;
  }
}

export {};
