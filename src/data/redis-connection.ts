import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import type { RedisConfig } from '../core/config.js';
import { PixyproxyError, SharedStateUnavailableError } from '../core/errors.js';

/**
 * The three kinds of Redis connection pixyproxy opens, each tuned for what waits on it:
 *
 * - `request`: limits checked while a client waits. No offline queue and a short command timeout,
 *   so an outage becomes a 503 within REDIS_COMMAND_TIMEOUT_MS instead of a hung request.
 * - `subscriber`: pub/sub (credential-cache invalidation); re-subscribes by itself after a reconnect.
 * - `queue`: BullMQ's Queue, Worker and QueueEvents. BullMQ requires `maxRetriesPerRequest: null`
 *   (its blocking commands must survive a reconnect), and keeps commands queued while offline.
 *
 * All three reconnect forever, at most half a second apart, so service comes back within about
 * half a second of Redis returning, without a restart.
 */
export type RedisConnectionKind = 'request' | 'subscriber' | 'queue';

/** Seconds a client is told to wait (Retry-After) when Redis is unreachable. */
export const SHARED_STATE_RETRY_AFTER_SECONDS = 2;

/** Reconnect delay in ms for the n-th attempt: quick at first, then twice a second. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * attempt, 500);
}

/** ioredis options for one kind of connection to the configured server. */
export function redisOptions(config: RedisConfig, kind: RedisConnectionKind): RedisOptions {
  const common: RedisOptions = {
    retryStrategy: reconnectDelayMs,
    connectTimeout: Math.max(1000, config.commandTimeoutMs),
    // Connection names show in CLIENT LIST, which helps when several instances share a server.
    connectionName: `pixyproxy-${kind}`,
  };
  switch (kind) {
    case 'request':
      return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: config.commandTimeoutMs };
    case 'subscriber':
      return { ...common, maxRetriesPerRequest: null, autoResubscribe: true };
    case 'queue':
      return { ...common, maxRetriesPerRequest: null };
  }
}

/** A new, connecting client; the caller owns it and calls quit() (or disconnect()) when done. */
export function openRedis(config: RedisConfig, kind: RedisConnectionKind): Redis {
  // Required here, not imported at the top: a server without REDIS_URL never loads ioredis, which
  // is a good part of the start-up time spent compiling modules. ioredis is CommonJS, so the
  // require is synchronous and openRedis stays so.
  const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const client = new RedisClient(config.url, redisOptions(config, kind));
  // Without a listener ioredis prints every failed reconnect to stderr; the users of the client
  // report what matters (a refused request, a failed job) themselves.
  client.on('error', () => {});
  return client;
}

/**
 * Resolves once the client is connected and ready; rejects with SharedStateUnavailableError when it
 * is not within timeoutMs. Start-up uses it, so a wrong REDIS_URL fails loudly instead of every request.
 */
export async function waitUntilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown) => (lastError = error);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new SharedStateUnavailableError(`Redis did not answer within ${timeoutMs} ms`, { cause: lastError }));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/** Any failure of a Redis command as the 503 a client should see; our own errors pass through. */
export function sharedStateError(error: unknown): PixyproxyError {
  if (error instanceof PixyproxyError) return error;
  return new SharedStateUnavailableError('Shared state (Redis) is unavailable; try again shortly', {
    cause: error,
    retryAfterSeconds: SHARED_STATE_RETRY_AFTER_SECONDS,
  });
}

/** Runs a Redis call, turning its failures into SharedStateUnavailableError (503 + Retry-After). */
export async function onSharedState<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw sharedStateError(error);
  }
}
