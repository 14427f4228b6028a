import { randomBytes } from 'node:crypto';
import { AuthenticationError, ConstraintViolationError, DataValidationError, RecordNotFoundError } from '../../core/errors.js';
import { USERNAME_PATTERN, type User } from '../../core/models/user.js';
import type { UserRepository } from '../../data/user-repository.js';
import type { ApiKeyService } from './api-key-service.js';
import type { LoginLimiter } from './auth-failure-limiter.js';
import { CredentialCache } from './credential-cache.js';
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './password-hasher.js';
import { ILL_FORMED_TEXT_MESSAGE, isWellFormedText } from '../../core/unicode-text.js';

/** What a request presents to log in: HTTP Basic (RFC 7617) or a bearer API key (RFC 6750). */
export type Credentials =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string };

export interface AccessServiceDeps {
  users: UserRepository;
  /** API keys, for the bearer path of authenticate(). */
  apiKeys: ApiKeyService;
  /** Verified credentials, so a client sending the same Basic header on every request pays for scrypt once per TTL. */
  credentialCache: CredentialCache;
  /**
   * Failed logins per client address and username (AUTH_FAILURE_LIMIT per AUTH_FAILURE_WINDOW_MS):
   * AuthFailureLimiter in this process, or RedisLoginLimiter shared by every instance (REDIS_URL).
   */
  failureLimiter: LoginLimiter;
  /**
   * Tells the other instances to evict a user's cached credentials (RedisCredentialInvalidation,
   * REDIS_URL); absent: one instance, whose own cache is all there is.
   */
  publishEviction?: (username: string) => Promise<void>;
  scrypt?: ScryptParams;
  /** Checks a password against a stored hash: password-hasher's `verifyPassword` (scrypt) unless given, e.g. a test's spy. */
  verifyPassword?: (password: string, encoded: string) => Promise<boolean>;
  now?: () => Date;
}

const USERNAME = new RegExp(USERNAME_PATTERN);
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

function checkNewCredentials(username: string, password: string): void {
  if (!USERNAME.test(username)) {
    throw new DataValidationError('Usernames are 1-64 characters of A-Z, a-z, 0-9, ".", "_" and "-"', {
      errors: [{ path: '/username', message: 'must match ' + USERNAME_PATTERN }],
    });
  }
  // A lone surrogate would be hashed as U+FFFD, so the password would also match other inputs.
  if (!isWellFormedText(password)) {
    throw new DataValidationError('Passwords must be well-formed Unicode text', {
      errors: [{ path: '/password', message: ILL_FORMED_TEXT_MESSAGE }],
    });
  }
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new DataValidationError(`Passwords are ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`, {
      errors: [{ path: '/password', message: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` }],
    });
  }
}

/**
 * Who may write: accounts, and the one login call, `authenticate()`, which owns the failure limiter,
 * the credential cache and the sharing of concurrent identical attempts. With REDIS_URL the limiter
 * is the shared one and credential evictions are published to every instance.
 */
export class AccessService {
  readonly #users: UserRepository;
  readonly #apiKeys: ApiKeyService;
  readonly #cache: CredentialCache;
  readonly #limiter: LoginLimiter;
  readonly #publishEviction: ((username: string) => Promise<void>) | undefined;
  readonly #scrypt: ScryptParams;
  readonly #now: () => Date;
  readonly #verifyPassword: (password: string, encoded: string) => Promise<boolean>;
  // Verified against when the username is unknown, so that case costs one scrypt like a wrong password.
  #decoyHash: Promise<string> | undefined;
  // Attempts running now, by cache epoch, client address and credentials: a burst of requests with the
  // same new header (a client opening several connections at once) shares one scrypt (32 MiB apiece)
  // and counts as one attempt against the limits.
  readonly #inFlight = new Map<string, Promise<User>>();

  constructor(deps: AccessServiceDeps) {
    this.#users = deps.users;
    this.#apiKeys = deps.apiKeys;
    this.#cache = deps.credentialCache;
    this.#limiter = deps.failureLimiter;
    this.#scrypt = deps.scrypt ?? DEFAULT_SCRYPT;
    this.#now = deps.now ?? (() => new Date());
    this.#verifyPassword = deps.verifyPassword ?? verifyPassword;
    this.#publishEviction = deps.publishEviction;
  }

  /** Forgets one user's cached credentials here; for evictions published by other instances. */
  evictCachedUser(username: string): void {
    this.#cache.evictUser(username);
  }

  /** Forgets every cached credential here (evictions may have been missed while Redis was away). */
  evictAllCached(): void {
    this.#cache.evictAll();
  }

  /**
   * The user these credentials belong to: HTTP Basic (RFC 7617) or an API key (RFC 6750 bearer
   * token), both under the same failed-login limits of the client address.
   *
   * Basic: the same time whether the username exists or not. An attempt counts as a failure before its
   * password is hashed and is forgiven when it succeeds, so a burst of concurrent guesses cannot all
   * slip through. Bearer: see #authenticateBearer.
   * @param clientAddress the request's client address (after TRUST_PROXY), the limiter's key
   * @throws TooManyRequestsError (429, `retryAfterSeconds` = rest of the window) when this client may not try now
   * @throws SharedStateUnavailableError (503 + Retry-After) when the shared limiter's Redis is down: never an unlimited attempt
   * @throws AuthenticationError (401) for a wrong username or password, or an unknown, expired or revoked key
   */
  async authenticate(clientAddress: string, credentials: Credentials): Promise<User> {
    if (credentials.scheme === 'bearer') return this.#authenticateBearer(clientAddress, credentials.token);
    const { username, password } = credentials;
    const credentialKey = CredentialCache.keyOf(username, password);
    // A verification that began before an eviction (password change, removal) is never joined by
    // later requests, and its result is not cached: the epoch is part of the key.
    const epoch = this.#cache.epoch();
    const flightKey = `${epoch}\u0000${clientAddress}\u0000${username}\u0000${credentialKey}`;
    const shared = this.#inFlight.get(flightKey);
    if (shared !== undefined) return shared;
    const flight = this.#attempt(clientAddress, username, password, credentialKey, epoch);
    this.#inFlight.set(flightKey, flight);
    try {
      return await flight;
    } finally {
      this.#inFlight.delete(flightKey);
    }
  }

  /**
   * A bearer token is checked first and counted only when refused: a token carries 256 random bits,
   * so the concurrent guesses that Basic must count up front gain nothing here, and a client sending
   * many requests at once with a valid key is never taken for a guesser. Refusals count against the
   * client address (there is no username to count against), toward the same limit as Basic; through
   * the LoginLimiter port, so with REDIS_URL every instance sees them.
   */
  async #authenticateBearer(address: string, token: string): Promise<User> {
    await this.#limiter.check(address, undefined);
    try {
      return await this.#apiKeys.verifyToken(token);
    } catch (error) {
      if (error instanceof AuthenticationError) await this.#limiter.recordFailure(address, undefined);
      throw error;
    }
  }

  /**
   * Counts an Authorization header that is not parseable Basic credentials as a failure of this client
   * address, and refuses it. @throws TooManyRequestsError when the address is over its limit,
   * SharedStateUnavailableError (503) when the shared limiter's Redis is down, else AuthenticationError
   */
  async refuseMalformedCredentials(clientAddress: string, message: string): Promise<never> {
    await this.#limiter.reserve(clientAddress, undefined);
    throw new AuthenticationError(message);
  }

  async #attempt(address: string, username: string, password: string, credentialKey: string, epoch: number): Promise<User> {
    await this.#limiter.reserve(address, username);
    let user: User;
    try {
      user = await this.#verify(username, password, credentialKey, epoch);
    } catch (error) {
      // Only a wrong password is a failed login; a database outage is not the client's fault.
      if (!(error instanceof AuthenticationError)) await this.#limiter.forgive(address, username);
      throw error;
    }
    await this.#limiter.succeed(address, username);
    return user;
  }

  async #verify(username: string, password: string, credentialKey: string, epoch: number): Promise<User> {
    const cached = this.#cache.get(credentialKey);
    if (cached !== undefined) return cached;
    const found = await this.#users.findByUsername(username);
    this.#decoyHash ??= hashPassword(randomBytes(16).toString('hex'), this.#scrypt);
    const hash = found?.passwordHash ?? (await this.#decoyHash);
    const matches = await this.#verifyPassword(password, hash);
    if (found === undefined || !matches) throw new AuthenticationError('The username or password is wrong');
    this.#cache.set(credentialKey, found.user, epoch);
    return found.user;
  }

  /** `pixyproxy user add`. @throws DataValidationError (bad name or password length), ConstraintViolationError (taken) */
  async addUser(username: string, password: string, options: { isAdmin?: boolean } = {}): Promise<User> {
    checkNewCredentials(username, password);
    const passwordHash = await hashPassword(password, this.#scrypt);
    return this.#users.insert({ username, passwordHash, isAdmin: options.isAdmin ?? false, createdAt: this.#now().toISOString() });
  }

  /**
   * `pixyproxy user passwd`; the old password stops working at once, on every instance (with
   * REDIS_URL the eviction is published). @throws DataValidationError, RecordNotFoundError,
   * SharedStateUnavailableError when the change is saved but could not be announced
   */
  async setPassword(username: string, password: string): Promise<void> {
    checkNewCredentials(username, password);
    const passwordHash = await hashPassword(password, this.#scrypt);
    this.#cache.evictUser(username);
    if (!(await this.#users.updatePassword(username, passwordHash, this.#now().toISOString()))) {
      throw new RecordNotFoundError(`No user is named "${username}"`);
    }
    this.#cache.evictUser(username);
    await this.#publishEviction?.(username);
  }

  listUsers(): Promise<User[]> {
    return this.#users.list();
  }

  /**
   * `pixyproxy user remove`; their images stay, their API keys go with them. Evicted on every
   * instance, as setPassword. @throws RecordNotFoundError
   */
  async removeUser(username: string): Promise<void> {
    this.#cache.evictUser(username);
    if (!(await this.#users.deleteByUsername(username))) throw new RecordNotFoundError(`No user is named "${username}"`);
    await this.#publishEviction?.(username);
  }

  /**
   * On first start (no users at all) creates `admin`, with the given password or a random one.
   * Returns the generated password so the caller can hand it to the operator; never logged here.
   * Several instances starting at once on one database may all see no users: the one whose insert
   * wins creates `admin`, the others find it taken and carry on (created: false).
   */
  async ensureInitialAdmin(password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
    if ((await this.#users.count()) > 0) return { created: false };
    const generated = password === undefined ? randomBytes(18).toString('base64url') : undefined;
    try {
      await this.addUser('admin', password ?? generated!, { isAdmin: true });
    } catch (error) {
      if (error instanceof ConstraintViolationError) return { created: false };
      throw error;
    }
    return generated === undefined ? { created: true } : { created: true, generatedPassword: generated };
  }
}
