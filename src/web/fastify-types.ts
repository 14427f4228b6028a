import type { FastifyBaseLogger } from 'fastify';
import type { User } from '../core/models/user.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The logger of the two request lines (web/request-logging.ts): the app's, without redaction. */
    requestLines: FastifyBaseLogger;
    /**
     * Compiles every route validator and response serialiser not compiled yet (they are compiled on
     * first use: web/schema-compilers.ts) and returns how many. Throws on an invalid schema.
     */
    compileSchemas(): number;
  }

  interface FastifyRequest {
    /** The authenticated caller on private routes; null on public ones. */
    user: User | null;
    /** The scheme of the credentials the request presented on a private route (set even when refused). */
    authScheme: 'basic' | 'bearer' | null;
  }
}

export {};
