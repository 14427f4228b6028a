import { TooManyRequestsError } from '../../core/errors.js';

export interface AuthFailureLimiterOptions {
  /** Failed attempts allowed per client address, and per username, within one window. */
  limit: number;
  windowMs: number;
  /** Upper bound on tracked keys per table, so a flood of distinct names cannot exhaust memory. */
  maxEntries?: number;
  now?: () => number;
}

interface Window {
  count: number;
  resetAt: number;
}

/** Fixed windows keyed by string, in memory; the oldest keys go first when the table is full. */
class FailureWindows {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  current(key: string, now: number): Window | undefined {
    const window = this.#windows.get(key);
    if (window === undefined) return undefined;
    if (window.resetAt <= now) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }

  add(key: string, now: number): void {
    const window = this.current(key, now);
    if (window !== undefined) {
      window.count += 1;
      return;
    }
    if (this.#windows.size >= this.maxEntries) this.#evict(now);
    this.#windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  delete(key: string): void {
    this.#windows.delete(key);
  }

  /** Takes back one count (a reserved attempt that turned out not to be a failure). */
  release(key: string, now: number): void {
    const window = this.current(key, now);
    if (window === undefined) return;
    window.count -= 1;
    if (window.count <= 0) this.#windows.delete(key);
  }

  #evict(now: number): void {
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    // Map iteration is insertion order: what remains first is the oldest window.
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.maxEntries) break;
      this.#windows.delete(key);
    }
  }
}

/**
 * Slows down password guessing. Failures are counted per client address and per username.
 *
 * - A client address over the limit is refused for every username until its window ends.
 * - A username over the limit is refused only to clients that have themselves failed against it in
 *   the window. An attacker spreading guesses over many addresses gets one guess per address and
 *   window once the username is locked, while the real user, on an address with no failures of its
 *   own, still logs in: a lock-out of the account by strangers is not possible.
 *
 * The access service counts an attempt as a failure *before* its password is checked and forgives it
 * when it succeeds: otherwise a burst of concurrent guesses would all pass the check while the first
 * ones are still being hashed (see AccessService.authenticate).
 *
 * State lives in this process only; several replicas each keep their own counts (with REDIS_URL,
 * RedisLoginLimiter keeps them in Redis instead).
 */
/**
 * What `AccessService.authenticate()` needs of a failed-login limiter: AuthFailureLimiter (in this
 * process, one instance) and RedisLoginLimiter (shared by all instances, REDIS_URL) both provide it.
 * An attempt is reserved (counted as a failure) before its password is checked, then forgiven.
 */
export interface LoginLimiter {
  /**
   * Refuses this client for this username, or counts one failed attempt; atomically. username is
   * undefined when the credentials could not even be parsed (counted against the address only).
   * @throws TooManyRequestsError (429 + Retry-After); SharedStateUnavailableError (503) from Redis
   */
  reserve(address: string, username: string | undefined): Promise<void> | void;
  /** Takes back a reserved attempt that was not a wrong password (an outage). */
  forgive(address: string, username: string): Promise<void> | void;
  /** Takes back a reserved attempt whose password was right, and clears this client's record against the username. */
  succeed(address: string, username: string): Promise<void> | void;
  /**
   * Refuses this client for this username without counting anything (a bearer token is checked
   * first and counted only when refused). @throws TooManyRequestsError; SharedStateUnavailableError
   */
  check(address: string, username: string | undefined): Promise<void> | void;
  /** Counts one failed attempt after the fact (a refused bearer token); never refuses. */
  recordFailure(address: string, username: string | undefined): Promise<void> | void;
}

export class AuthFailureLimiter implements LoginLimiter {
  readonly #limit: number;
  readonly #byAddress: FailureWindows;
  readonly #byUsername: FailureWindows;
  readonly #byPair: FailureWindows;
  readonly #now: () => number;

  constructor(options: AuthFailureLimiterOptions) {
    const maxEntries = options.maxEntries ?? 100_000;
    this.#limit = options.limit;
    this.#byAddress = new FailureWindows(options.windowMs, maxEntries);
    this.#byUsername = new FailureWindows(options.windowMs, maxEntries);
    this.#byPair = new FailureWindows(options.windowMs, maxEntries);
    this.#now = options.now ?? Date.now;
  }

  /** Throws TooManyRequestsError (with Retry-After) when this client may not try this username now. */
  check(address: string, username: string | undefined): void {
    const now = this.#now();
    const byAddress = this.#byAddress.current(address, now);
    if (byAddress !== undefined && byAddress.count >= this.#limit) throw this.#refusal(byAddress, now);
    if (username === undefined) return;
    const byUsername = this.#byUsername.current(username, now);
    if (byUsername === undefined || byUsername.count < this.#limit) return;
    if (this.#byPair.current(pairKey(address, username), now) !== undefined) throw this.#refusal(byUsername, now);
  }

  /** Takes back the failure counted for an attempt that turned out not to be one (a correct password, an outage). */
  forgive(address: string, username: string): void {
    const now = this.#now();
    this.#byAddress.release(address, now);
    this.#byUsername.release(username, now);
    this.#byPair.release(pairKey(address, username), now);
  }

  /** LoginLimiter: check, then count one failure. */
  reserve(address: string, username: string | undefined): void {
    this.check(address, username);
    this.recordFailure(address, username);
  }

  /** LoginLimiter: forgive, then clear this client's record against the username. */
  succeed(address: string, username: string): void {
    this.forgive(address, username);
    this.recordSuccess(address, username);
  }

  /** Counts one failed attempt; username is undefined when the credentials could not even be parsed. */
  recordFailure(address: string, username: string | undefined): void {
    const now = this.#now();
    this.#byAddress.add(address, now);
    if (username === undefined) return;
    this.#byUsername.add(username, now);
    this.#byPair.add(pairKey(address, username), now);
  }

  /** A correct password clears this client's own record against the username (not the address count). */
  recordSuccess(address: string, username: string): void {
    this.#byPair.delete(pairKey(address, username));
  }

  #refusal(window: Window, now: number): TooManyRequestsError {
    return new TooManyRequestsError('Too many failed login attempts; try again later', {
      retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
    });
  }
}

function pairKey(address: string, username: string): string {
  return `${address}\u0000${username}`;
}
