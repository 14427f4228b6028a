import type { User } from '../core/models/user.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller on private routes; null on public ones. */
    user: User | null;
  }
}

export {};
