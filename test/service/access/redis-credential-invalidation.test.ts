import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { RedisConfig } from '../../../src/core/config.js';
import { SharedStateUnavailableError } from '../../../src/core/errors.js';
import {
  RedisCredentialInvalidation,
  type CredentialInvalidationListener,
} from '../../../src/service/access/redis-credential-invalidation.js';
import { describeRedis, redisClients, testRedisConfig } from '../../support/redis.js';

const redis = redisClients();
let config: RedisConfig;

beforeEach(() => {
  config = testRedisConfig();
});
afterEach(() => redis.closeAll());

/** An instance's cache as the invalidation sees it: what it was told to evict. */
function recordingCache() {
  const evicted: string[] = [];
  let cleared = 0;
  const listener: CredentialInvalidationListener = {
    evictUser: (username) => evicted.push(username),
    evictAll: () => (cleared += 1),
  };
  return { listener, evicted, cleared: () => cleared };
}

async function listeningInstance(cache: CredentialInvalidationListener): Promise<RedisCredentialInvalidation> {
  const invalidation = new RedisCredentialInvalidation(await redis.open(config), await redis.open(config, 'subscriber'), config.keyPrefix);
  await invalidation.listen(cache);
  return invalidation;
}

describeRedis('RedisCredentialInvalidation', () => {
  it('evicts a user on every listening instance when any one publishes', async () => {
    const first = recordingCache();
    const second = recordingCache();
    await listeningInstance(first.listener);
    await listeningInstance(second.listener);
    // The CLI publishes without listening.
    const cli = new RedisCredentialInvalidation(await redis.open(config), undefined, config.keyPrefix);
    await cli.publish('alice');
    await vi.waitFor(() => {
      expect(first.evicted).toEqual(['alice']);
      expect(second.evicted).toEqual(['alice']);
    });
  });

  it('drops every cached credential after its subscription was cut, since evictions may have been missed', async () => {
    const cache = recordingCache();
    const subscriber = await redis.open(config, 'subscriber');
    const invalidation = new RedisCredentialInvalidation(await redis.open(config), subscriber, config.keyPrefix);
    const id = (await subscriber.client('ID')) as number;
    await invalidation.listen(cache.listener);
    const admin = await redis.open(config);
    await admin.client('KILL', 'ID', String(id));
    await vi.waitFor(() => expect(cache.cleared()).toBe(1), { timeout: 10_000 });
    // Subscribed again after the reconnect.
    await invalidation.publish('bob');
    await vi.waitFor(() => expect(cache.evicted).toEqual(['bob']), { timeout: 10_000 });
  });

  it('refuses to publish with SharedStateUnavailableError when Redis is unreachable', async () => {
    const invalidation = new RedisCredentialInvalidation(redis.openUnreachable(config, 1), undefined, config.keyPrefix);
    await expect(invalidation.publish('alice')).rejects.toBeInstanceOf(SharedStateUnavailableError);
  });
});
