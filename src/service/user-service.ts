import { randomBytes } from 'node:crypto';
import { AuthenticationError, DataValidationError, RecordNotFoundError } from '../core/errors.js';
import { USERNAME_PATTERN, type User } from '../core/models/user.js';
import { ILL_FORMED_TEXT_MESSAGE, isWellFormedText } from '../core/unicode-text.js';
import type { UserRepository } from '../data/user-repository.js';
import { CredentialCache } from './credential-cache.js';
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './password-hasher.js';

export interface UserServiceOptions {
  scrypt?: ScryptParams;
  /** How long verified credentials are trusted without re-hashing; 0 disables the cache. */
  credentialCacheTtlMs?: number;
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

/** Accounts and credential checks. */
export class UserService {
  readonly #scrypt: ScryptParams;
  readonly #cache: CredentialCache;
  readonly #now: () => Date;
  // Verified against when the username is unknown, so that case costs one scrypt like a wrong password.
  #decoyHash: Promise<string> | undefined;
  // Verifications running now, by cache key: a burst of requests with the same new header (a client
  // opening several connections at once) shares one scrypt instead of running one each, 32 MiB apiece.
  readonly #inFlight = new Map<string, Promise<User>>();

  constructor(
    private readonly users: UserRepository,
    options: UserServiceOptions = {},
  ) {
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.#cache = new CredentialCache(options.credentialCacheTtlMs ?? 60_000);
    this.#now = options.now ?? (() => new Date());
  }

  /** The user these credentials belong to; AuthenticationError otherwise, in the same time either way. */
  async verifyCredentials(username: string, password: string): Promise<User> {
    const key = CredentialCache.keyOf(username, password);
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    // A verification that began before an eviction (password change, removal) is never joined by
    // later requests, and its result is not cached: the epoch is part of the in-flight key.
    const epoch = this.#cache.epoch();
    const flightKey = `${epoch}:${key}`;
    let verification = this.#inFlight.get(flightKey);
    if (verification === undefined) {
      verification = this.#verify(key, epoch, username, password).finally(() => this.#inFlight.delete(flightKey));
      this.#inFlight.set(flightKey, verification);
    }
    return verification;
  }

  async #verify(key: string, epoch: number, username: string, password: string): Promise<User> {
    const found = await this.users.findByUsername(username);
    this.#decoyHash ??= hashPassword(randomBytes(16).toString('hex'), this.#scrypt);
    const hash = found?.passwordHash ?? (await this.#decoyHash);
    const matches = await verifyPassword(password, hash);
    if (found === undefined || !matches) throw new AuthenticationError('The username or password is wrong');
    this.#cache.set(key, found.user, epoch);
    return found.user;
  }

  async addUser(username: string, password: string, options: { isAdmin?: boolean } = {}): Promise<User> {
    checkNewCredentials(username, password);
    const passwordHash = await hashPassword(password, this.#scrypt);
    return this.users.insert({ username, passwordHash, isAdmin: options.isAdmin ?? false, createdAt: this.#now().toISOString() });
  }

  async setPassword(username: string, password: string): Promise<void> {
    checkNewCredentials(username, password);
    const passwordHash = await hashPassword(password, this.#scrypt);
    this.#cache.evictUser(username);
    if (!(await this.users.updatePassword(username, passwordHash, this.#now().toISOString()))) {
      throw new RecordNotFoundError(`No user is named "${username}"`);
    }
    this.#cache.evictUser(username);
  }

  listUsers(): Promise<User[]> {
    return this.users.list();
  }

  async removeUser(username: string): Promise<void> {
    this.#cache.evictUser(username);
    if (!(await this.users.deleteByUsername(username))) throw new RecordNotFoundError(`No user is named "${username}"`);
  }

  /**
   * On first start (no users at all) creates `admin`, with the given password or a random one.
   * Returns the generated password so the caller can hand it to the operator; never logged here.
   */
  async ensureInitialAdmin(password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
    if ((await this.users.count()) > 0) return { created: false };
    const generated = password === undefined ? randomBytes(18).toString('base64url') : undefined;
    await this.addUser('admin', password ?? generated!, { isAdmin: true });
    return generated === undefined ? { created: true } : { created: true, generatedPassword: generated };
  }
}
