import { afterEach, beforeEach, expect, it } from 'vitest';
import { SharedStateUnavailableError, TooManyRequestsError } from '../../../src/core/errors.js';
import type { RedisConfig } from '../../../src/core/config.js';
import { RedisLoginLimiter } from '../../../src/service/access/redis-login-limiter.js';
import { describeRedis, redisClients, testRedisConfig } from '../../support/redis.js';

const LIMIT = 3;
const WINDOW_MS = 60_000;
const redis = redisClients();
let config: RedisConfig;

beforeEach(() => {
  config = testRedisConfig();
});
afterEach(() => redis.closeAll());

/** Two limiters on two connections with one key prefix: two instances of pixyproxy. */
async function twoInstances(): Promise<[RedisLoginLimiter, RedisLoginLimiter]> {
  const options = { limit: LIMIT, windowMs: WINDOW_MS, keyPrefix: config.keyPrefix };
  return [new RedisLoginLimiter(await redis.open(config), options), new RedisLoginLimiter(await redis.open(config), options)];
}

/** One wrong password: the attempt is reserved and never forgiven. Returns the refusal, if any. */
async function fail(limiter: RedisLoginLimiter, address: string, username: string | undefined): Promise<unknown> {
  return Promise.resolve(limiter.reserve(address, username)).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describeRedis('RedisLoginLimiter', () => {
  it('refuses an address at the limit on every instance, with the seconds left in its window', async () => {
    const [a, b] = await twoInstances();
    await fail(a, '10.0.0.1', 'alice');
    await fail(b, '10.0.0.1', 'bob');
    await fail(a, '10.0.0.1', 'carol');
    const refused = await fail(b, '10.0.0.1', 'dave');
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    const seconds = (refused as TooManyRequestsError).retryAfterSeconds!;
    expect(seconds).toBeGreaterThan(WINDOW_MS / 1000 - 10);
    expect(seconds).toBeLessThanOrEqual(WINDOW_MS / 1000);
  });

  it('shares refused bearer tokens across instances: counted after the fact, checked without counting', async () => {
    const [a, b] = await twoInstances();
    // Checks alone (valid keys) never use up the allowance.
    for (let i = 0; i < LIMIT * 2; i += 1) await a.check('10.0.0.5', undefined);
    for (let i = 0; i < LIMIT; i += 1) await (i % 2 ? a : b).recordFailure('10.0.0.5', undefined);
    await expect(Promise.resolve(b.check('10.0.0.5', undefined))).rejects.toBeInstanceOf(TooManyRequestsError);
    // The same address is refused a password guess too: one limit for both schemes.
    expect(await fail(a, '10.0.0.5', 'alice')).toBeInstanceOf(TooManyRequestsError);
    await a.check('10.0.0.6', undefined);
  });

  it('lets exactly the limit of concurrent attempts through across instances', async () => {
    const [a, b] = await twoInstances();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => fail(i % 2 ? a : b, '10.0.0.9', 'alice')));
    expect(results.filter((r) => r === undefined)).toHaveLength(LIMIT);
    expect(results.filter((r) => r instanceof TooManyRequestsError)).toHaveLength(20 - LIMIT);
  });

  it('refuses a locked username only to addresses that failed against it', async () => {
    const [a, b] = await twoInstances();
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) await fail(address === '10.0.0.2' ? b : a, address, 'alice');
    expect(await fail(b, '10.0.0.1', 'alice')).toBeInstanceOf(TooManyRequestsError);
    // The real user, on an address with no failures of its own, still gets to the password check.
    expect(await fail(a, '10.0.0.4', 'alice')).toBeUndefined();
  });

  it("takes a successful attempt back and clears that client's record against the username", async () => {
    const [a, b] = await twoInstances();
    await fail(a, '10.0.0.2', 'alice');
    await fail(b, '10.0.0.2', 'alice');
    await b.succeed('10.0.0.2', 'alice');
    await fail(a, '10.0.0.1', 'alice');
    await fail(b, '10.0.0.5', 'alice');
    // The username is locked now (3 failures), but 10.0.0.2 no longer counts as having failed against it.
    expect(await fail(b, '10.0.0.1', 'alice')).toBeInstanceOf(TooManyRequestsError);
    expect(await fail(a, '10.0.0.2', 'alice')).toBeUndefined();
  });

  it('forgives an attempt that was not a wrong password', async () => {
    const [a, b] = await twoInstances();
    for (let i = 0; i < LIMIT; i++) {
      await fail(a, '10.0.0.8', 'alice');
      await b.forgive('10.0.0.8', 'alice');
    }
    expect(await fail(a, '10.0.0.8', 'alice')).toBeUndefined();
  });

  it('counts an unparseable Authorization header against the address', async () => {
    const [a, b] = await twoInstances();
    for (let i = 0; i < LIMIT; i++) await fail(a, '10.0.0.7', undefined);
    expect(await fail(b, '10.0.0.7', undefined)).toBeInstanceOf(TooManyRequestsError);
    expect(await fail(b, '10.0.0.7', 'alice')).toBeInstanceOf(TooManyRequestsError);
  });

  it('answers SharedStateUnavailableError, not an unlimited attempt, when Redis is unreachable', async () => {
    const limiter = new RedisLoginLimiter(redis.openUnreachable(config, 1), { limit: LIMIT, windowMs: WINDOW_MS, keyPrefix: config.keyPrefix });
    expect(await fail(limiter, '10.0.0.1', 'alice')).toBeInstanceOf(SharedStateUnavailableError);
  });
});
