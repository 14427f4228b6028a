import { createRequire } from 'node:module';
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { SharedStateUnavailableError } from '../core/errors.js';

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1];

interface PluginRedisStore {
  incr(key: string, callback: IncrCallback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): PluginRedisStore;
}

type PluginRedisStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => PluginRedisStore;

// The plugin's own Redis store (an atomic INCR + PEXPIRE Lua script); it is not among the package's
// typed exports, so it is loaded by path.
const PluginRedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore') as PluginRedisStoreCtor;

/** Seconds a client is told to wait when the counters cannot be reached. */
const RETRY_AFTER_SECONDS = 2;

function unavailable(cause: unknown): SharedStateUnavailableError {
  return new SharedStateUnavailableError('Shared state (Redis) is unavailable; try again shortly', { cause, retryAfterSeconds: RETRY_AFTER_SECONDS });
}

/** Turns the plugin's Redis errors into SharedStateUnavailableError, so an outage answers 503 with Retry-After. */
class SharedStateRateLimitStore implements FastifyRateLimitStore {
  constructor(private readonly inner: PluginRedisStore) {}

  incr(key: string, callback: IncrCallback, timeWindow: number, max: number): void {
    this.inner.incr(key, (error, result) => (error ? callback(unavailable(error)) : callback(null, result)), timeWindow, max);
  }

  child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
    // A limiter made with `createRateLimit` (the create budget, shared by two routes) belongs to no
    // route: the plugin hands an empty routeInfo, which its store would spell `undefinedundefined`.
    const { routeInfo } = routeOptions as { routeInfo?: { method?: string; url?: string } };
    const shared = routeInfo?.url === undefined;
    return new SharedStateRateLimitStore(this.inner.child(shared ? { ...routeOptions, routeInfo: { method: '', url: 'shared' } } : routeOptions));
  }
}

/**
 * A store for `@fastify/rate-limit` that keeps the counters in Redis (the plugin's RedisStore), so N
 * instances enforce the limit of one. `skipOnError` is deliberately not used: with Redis down a
 * limited route answers 503, never an unlimited free-for-all.
 * @param keyPrefix REDIS_KEY_PREFIX; keys are `<prefix>:rate:<METHOD><url>-<key>` for a route's own limit,
 *   `<prefix>:rate:shared-<key>` for one shared by routes (the create budget: `shared-create:<username>`).
 */
export function redisRateLimitStore(redis: Redis, keyPrefix: string): FastifyRateLimitStoreCtor {
  return class RedisRateLimitStore extends SharedStateRateLimitStore {
    constructor(options: FastifyRateLimitOptions) {
      // The plugin hands its resolved global settings, which include these two flags.
      const { continueExceeding = false, exponentialBackoff = false } = options as { continueExceeding?: boolean; exponentialBackoff?: boolean };
      super(new PluginRedisStore(continueExceeding, exponentialBackoff, redis, `${keyPrefix}:rate:`));
    }
  };
}
