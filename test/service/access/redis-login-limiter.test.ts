import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuthenticationError, SharedStateUnavailableError, TooManyRequestsError } from '../../../src/core/errors.js';
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

const wrongPassword = () => Promise.reject(new AuthenticationError('wrong'));
const isFailure = (error: unknown) => error instanceof AuthenticationError;

async function fail(limiter: RedisLoginLimiter, address: string, username: string): Promise<unknown> {
  return limiter.attempt(address, username, `${Math.random()}`, wrongPassword, isFailure).catch((error: unknown) => error);
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

  it('lets exactly the limit of concurrent wrong guesses reach the password check across instances', async () => {
    const [a, b] = await twoInstances();
    let checked = 0;
    const guess = (limiter: RedisLoginLimiter, i: number) =>
      limiter
        .attempt('10.0.0.9', 'alice', `guess-${i}`, () => {
          checked += 1;
          return wrongPassword();
        }, isFailure)
        .catch((error: unknown) => error);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => guess(i % 2 ? a : b, i)));
    expect(checked).toBe(LIMIT);
    expect(results.filter((r) => r instanceof TooManyRequestsError)).toHaveLength(20 - LIMIT);
  });

  it('refuses a locked username only to addresses that failed against it', async () => {
    const [a, b] = await twoInstances();
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) await fail(address === '10.0.0.2' ? b : a, address, 'alice');
    expect(await fail(b, '10.0.0.1', 'alice')).toBeInstanceOf(TooManyRequestsError);
    // The real user, on an address with no failures of its own, still gets to the password check.
    await expect(a.attempt('10.0.0.4', 'alice', 'k', async () => 'ok', isFailure)).resolves.toBe('ok');
  });

  it('forgives a successful attempt and clears that client\'s record against the username', async () => {
    const [a, b] = await twoInstances();
    await fail(a, '10.0.0.2', 'alice');
    await expect(b.attempt('10.0.0.2', 'alice', 'right', async () => 'ok', isFailure)).resolves.toBe('ok');
    await fail(a, '10.0.0.1', 'alice');
    await fail(b, '10.0.0.5', 'alice');
    await fail(a, '10.0.0.6', 'alice');
    // The username is locked now, but 10.0.0.2 no longer counts as having failed against it.
    expect(await fail(b, '10.0.0.1', 'alice')).toBeInstanceOf(TooManyRequestsError);
    await expect(a.attempt('10.0.0.2', 'alice', 'right', async () => 'ok', isFailure)).resolves.toBe('ok');
  });

  it('counts a malformed Authorization header against the address', async () => {
    const [a, b] = await twoInstances();
    for (let i = 0; i < LIMIT; i++) await a.recordMalformed('10.0.0.7');
    await expect(b.recordMalformed('10.0.0.7')).rejects.toBeInstanceOf(TooManyRequestsError);
    expect(await fail(b, '10.0.0.7', 'alice')).toBeInstanceOf(TooManyRequestsError);
  });

  it('answers SharedStateUnavailableError, not an unlimited attempt, when Redis is unreachable', async () => {
    const limiter = new RedisLoginLimiter(redis.openUnreachable(config, 1), { limit: LIMIT, windowMs: WINDOW_MS, keyPrefix: config.keyPrefix });
    let verified = false;
    const attempt = limiter.attempt('10.0.0.1', 'alice', 'k', async () => (verified = true), isFailure);
    await expect(attempt).rejects.toBeInstanceOf(SharedStateUnavailableError);
    expect(verified).toBe(false);
  });
});
