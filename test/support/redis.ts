import type { Redis } from 'ioredis';
import { describe, inject } from 'vitest';
import { loadConfig, type RedisConfig } from '../../src/core/config.js';
import { openRedis, waitUntilReady, type RedisConnectionKind } from '../../src/data/redis-connection.js';
import { uniqueRedisPrefix } from './redis-server.js';

/** REDIS_URL of the run's shared redis-server (test/support/redis-global-setup.ts); '' when skipped. */
export const redisServerUrl = inject('redisServerUrl');

/** Declares a suite that needs a real redis-server; skipped (loudly, by the global setup) without one. */
export const describeRedis: typeof describe = describe.skipIf(redisServerUrl === '') as typeof describe;

/** The shared server's configuration with a key prefix of its own, so tests never see each other's keys. */
export function testRedisConfig(url: string = redisServerUrl): RedisConfig {
  const redis = loadConfig({ REDIS_URL: url, REDIS_KEY_PREFIX: uniqueRedisPrefix() }).redis;
  if (redis === undefined) throw new Error('REDIS_URL did not make a Redis configuration');
  return redis;
}

/**
 * Opens connections and closes them all at the end: `const redis = redisClients(); ... afterEach(redis.closeAll)`.
 */
export function redisClients() {
  const opened: Redis[] = [];
  return {
    async open(config: RedisConfig, kind: RedisConnectionKind = 'request'): Promise<Redis> {
      const client = openRedis(config, kind);
      opened.push(client);
      await waitUntilReady(client, 10_000);
      return client;
    },
    /** A client that is never ready: nothing listens on its port. */
    openUnreachable(config: RedisConfig, port: number): Redis {
      const client = openRedis({ ...config, url: `redis://127.0.0.1:${port}` }, 'request');
      opened.push(client);
      return client;
    },
    async closeAll(): Promise<void> {
      for (const client of opened.splice(0)) client.disconnect();
    },
  };
}
