import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TooManyRequestsError } from '../core/errors.js';

/**
 * The per-user create budget, as a `preHandler` hook (after authentication and body validation, so a
 * refused body does not use it up). Throws TooManyRequestsError (429, `Retry-After`) past the limit;
 * the route's error handler answers it in its own shape (problem+json, or OpenAI's error body on /v1).
 */
export type CreateRateLimit = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * CREATE_RATE_LIMIT: one budget per user for every route that generates (`POST /image` and
 * `POST /v1/images/generations`): one user, one allowance, whichever API they call. A route-level
 * `config.rateLimit` would not do: the plugin gives each route a store of its own (its own memory
 * map, or Redis keys named for the route), so each route would count separately. One limiter made
 * with `createRateLimit` is one store, shared by the routes it is handed to; with REDIS_URL it is the
 * Redis store, so every instance counts into the same window (docs/API.md, "Rate limits").
 *
 * Each request counts once, whatever its `n` (at most 10 on /v1); quotas count every image.
 * @param app the instance the rate-limit plugin is registered on.
 * @param max creates per user per 60 s window (1 to 1,000,000).
 * @throws SharedStateUnavailableError (from the Redis store, at request time) when Redis is down: 503.
 */
export function createRateLimitOf(app: FastifyInstance, max: number): CreateRateLimit {
  const limit = app.createRateLimit({
    max,
    timeWindow: 60_000,
    keyGenerator: (request) => `create:${request.user?.username ?? request.ip}`,
  });
  return async (request, reply) => {
    const result = await limit(request);
    if (result.isAllowed) return;
    // The plugin's usual headers (draft-ietf-httpapi-ratelimit-headers spelling it uses by default).
    reply.header('x-ratelimit-limit', result.max);
    reply.header('x-ratelimit-remaining', result.remaining);
    reply.header('x-ratelimit-reset', result.ttlInSeconds);
    if (result.isExceeded) {
      throw new TooManyRequestsError(`At most ${result.max} images per minute may be created; try again later`, {
        retryAfterSeconds: Math.max(1, result.ttlInSeconds),
      });
    }
  };
}
