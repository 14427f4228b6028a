import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TooManyRequestsError } from '../../core/errors.js';
import { onSharedState } from '../../data/redis-connection.js';
import type { LoginLimiter } from './auth-failure-limiter.js';

export interface RedisLoginLimiterOptions {
  /** Failed attempts allowed per client address, and per username, within one window (AUTH_FAILURE_LIMIT). */
  limit: number;
  /** AUTH_FAILURE_WINDOW_MS. */
  windowMs: number;
  /** Prepended to every key (REDIS_KEY_PREFIX). */
  keyPrefix: string;
}

// One script for the three uses of the limits, so the rules cannot drift apart between them. Same
// rules as the in-memory limiter: an address at the limit is refused for every username; a username
// at the limit is refused only to addresses that have themselves failed against it in the window
// (KEYS[3] exists). 'reserve' checks and, when under the limits, counts one failure atomically, so two
// instances checking at the same moment cannot both pass the last free attempt; 'check' only refuses
// (a bearer token about to be verified); 'count' only counts (a refused bearer token, after the fact).
// KEYS: address, username, pair. ARGV: limit, window ms, '1' when a username is known, the mode.
// Returns {1, 0} when allowed (and counted, unless 'check'), {0, ms left in the refusing window} when refused.
const LIMIT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local withUser = ARGV[3] == '1'
local mode = ARGV[4]
if mode ~= 'count' then
  local byAddress = tonumber(redis.call('GET', KEYS[1]) or '0')
  if byAddress >= limit then return {0, redis.call('PTTL', KEYS[1])} end
  if withUser then
    local byUser = tonumber(redis.call('GET', KEYS[2]) or '0')
    if byUser >= limit and redis.call('EXISTS', KEYS[3]) == 1 then return {0, redis.call('PTTL', KEYS[2])} end
  end
end
if mode ~= 'check' then
  local function add(key)
    if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, window) end
  end
  add(KEYS[1])
  if withUser then
    add(KEYS[2])
    add(KEYS[3])
  end
end
return {1, 0}
`;

// Takes one count back from each key that still exists (a reserved attempt that succeeded).
const RELEASE = `
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    if redis.call('DECR', key) <= 0 then redis.call('DEL', key) end
  end
end
return 1
`;

/** What one run of the LIMIT script does: check and count atomically, only check, or only count. */
type LimitMode = 'reserve' | 'check' | 'count';

interface LimiterCommands {
  pixyproxyLoginLimit(addressKey: string, userKey: string, pairKey: string, limit: number, windowMs: number, withUser: '0' | '1', mode: LimitMode): Promise<[number, number]>;
  pixyproxyLoginRelease(addressKey: string, userKey: string, pairKey: string): Promise<number>;
}

/**
 * The failed-login limiter of AuthFailureLimiter with its counts in Redis, so every instance sees
 * the same failures and N instances allow exactly the guesses of one. Fixed windows per client
 * address, per username and per (address, username), as Redis keys with a PTTL of the window.
 *
 * Keys hold a SHA-256 of the username, never the name itself, so a key's size does not depend on
 * what a client sends. Redis unreachable: SharedStateUnavailableError (503), never an unlimited attempt.
 */
export class RedisLoginLimiter implements LoginLimiter {
  readonly #redis: Redis & LimiterCommands;
  readonly #options: RedisLoginLimiterOptions;

  constructor(redis: Redis, options: RedisLoginLimiterOptions) {
    const commands = redis as Redis & Partial<LimiterCommands>;
    if (commands.pixyproxyLoginLimit === undefined) redis.defineCommand('pixyproxyLoginLimit', { numberOfKeys: 3, lua: LIMIT });
    if (commands.pixyproxyLoginRelease === undefined) redis.defineCommand('pixyproxyLoginRelease', { numberOfKeys: 3, lua: RELEASE });
    this.#redis = redis as Redis & LimiterCommands;
    this.#options = options;
  }

  /** @throws TooManyRequestsError (429 + Retry-After); SharedStateUnavailableError when Redis cannot be reached. */
  async reserve(address: string, username: string | undefined): Promise<void> {
    await this.#limit('reserve', address, username);
  }

  /**
   * Takes back a reserved attempt that was not a wrong password. If Redis is down too, the count
   * stays until its window ends, which errs on the safe side.
   */
  async forgive(address: string, username: string): Promise<void> {
    await this.#forgiveQuietly(this.#keys(address, username));
  }

  /** A right password: the attempt is taken back and this client's record against the username cleared. */
  async succeed(address: string, username: string): Promise<void> {
    // The limit was already enforced by the reservation, so a Redis fault here does not fail the login.
    await this.#forgiveQuietly(this.#keys(address, username), true);
  }

  /** Refuses as reserve() does, counting nothing (bearer tokens). @throws TooManyRequestsError; SharedStateUnavailableError */
  async check(address: string, username: string | undefined): Promise<void> {
    await this.#limit('check', address, username);
  }

  /** Counts one failure after the fact (a refused bearer token). @throws SharedStateUnavailableError */
  async recordFailure(address: string, username: string | undefined): Promise<void> {
    await this.#limit('count', address, username);
  }

  async #limit(mode: LimitMode, address: string, username: string | undefined): Promise<void> {
    const keys = this.#keys(address, username ?? '');
    const { limit, windowMs } = this.#options;
    const withUser = username !== undefined ? '1' : '0';
    const [allowed, msLeft] = await onSharedState(() =>
      this.#redis.pixyproxyLoginLimit(keys.address, keys.user, keys.pair, limit, windowMs, withUser, mode),
    );
    if (allowed === 1) return;
    throw new TooManyRequestsError('Too many failed login attempts; try again later', {
      retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
    });
  }

  async #forgiveQuietly(keys: LoginKeys, succeeded = false): Promise<void> {
    try {
      await this.#redis.pixyproxyLoginRelease(keys.address, keys.user, keys.pair);
      if (succeeded) await this.#redis.del(keys.pair);
    } catch {
      // see above
    }
  }

  #keys(address: string, username: string): LoginKeys {
    const prefix = `${this.#options.keyPrefix}:login`;
    const user = createHash('sha256').update(username).digest('base64url');
    return { address: `${prefix}:address:${address}`, user: `${prefix}:user:${user}`, pair: `${prefix}:pair:${address}:${user}` };
  }
}

interface LoginKeys {
  address: string;
  user: string;
  pair: string;
}
