import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/core/config.js';
import { createRateLimitOf } from '../../src/web/create-rate-limit.js';
import { errorHandler } from '../../src/web/error-handler.js';
import { redisRateLimitStore } from '../../src/web/redis-rate-limit-store.js';
import { requestIdOf } from '../../src/web/request-id.js';
import { requestLogging } from '../../src/web/request-logging.js';
import { expectProblem } from '../support/expect-problem.js';
import { describeRedis, redisClients, testRedisConfig } from '../support/redis.js';

const redis = redisClients();
const apps: FastifyInstance[] = [];
let config: RedisConfig;

beforeEach(() => {
  config = testRedisConfig();
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await redis.closeAll();
});

/** One limited route (5 per minute per caller) counted in Redis: one pixyproxy instance. */
async function instance(client: Redis): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: requestIdOf });
  await app.register(requestLogging);
  await app.register(errorHandler);
  await app.register(rateLimit, { global: false, store: redisRateLimitStore(client, config.keyPrefix) });
  app.post('/limited', { config: { rateLimit: { max: 5, timeWindow: 60_000, keyGenerator: () => 'alice' } } }, async () => ({ ok: true }));
  apps.push(app);
  await app.ready();
  return app;
}

/** The create budget (3 per minute) handed to two routes, as POST /image and POST /v1/images/generations. */
async function instanceWithCreateBudget(client: Redis): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: requestIdOf });
  await app.register(requestLogging);
  await app.register(errorHandler);
  await app.register(rateLimit, { global: false, store: redisRateLimitStore(client, config.keyPrefix) });
  const budget = createRateLimitOf(app, 3);
  app.post('/image', { preHandler: budget }, async () => ({ ok: true }));
  app.post('/v1/images/generations', { preHandler: budget }, async () => ({ ok: true }));
  apps.push(app);
  await app.ready();
  return app;
}

describeRedis('the rate-limit plugin with the Redis store', () => {
  it('counts the create budget once over both create routes and both instances, under one shared key', async () => {
    const client = await redis.open(config);
    const a = await instanceWithCreateBudget(client);
    const b = await instanceWithCreateBudget(await redis.open(config));
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).inject({ method: 'POST', url: i % 4 < 2 ? '/image' : '/v1/images/generations' })),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(3);
    for (const refused of responses.filter((r) => r.statusCode !== 200)) {
      expectProblem(refused, 429, 'TooManyRequestsError');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(await client.keys(`${config.keyPrefix}:rate:*`)).toEqual([`${config.keyPrefix}:rate:shared-create:127.0.0.1`]);
  });


  it('allows exactly the limit across two instances sharing one Redis', async () => {
    const a = await instance(await redis.open(config));
    const b = await instance(await redis.open(config));
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).inject({ method: 'POST', url: '/limited' })),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('answers 503 problem+json with Retry-After, never an unlimited pass, when Redis is unreachable', async () => {
    const app = await instance(redis.openUnreachable(config, 1));
    const response = await app.inject({ method: 'POST', url: '/limited' });
    expectProblem(response, 503, 'SharedStateUnavailableError');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });
});
