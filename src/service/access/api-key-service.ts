import { AuthenticationError, DataValidationError, RecordNotFoundError } from '../../core/errors.js';
import {
  API_KEY_LABEL_MAX_LENGTH,
  API_KEY_MAX_LIFETIME_MS,
  durationMs,
  type ApiKey,
  type ApiKeyCreate,
  type CreatedApiKey,
} from '../../core/models/api-key.js';
import type { User } from '../../core/models/user.js';
import type { ApiKeyRepository } from '../../data/api-key-repository.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';
import { ApiKeyLastUse } from './api-key-last-use.js';
import { hashApiKeyToken, looksLikeApiKeyToken, newApiKeyId, newApiKeyToken, sameTokenHash } from './api-key-token.js';

export interface ApiKeyServiceOptions {
  now?: () => Date;
  log?: ServiceLogger;
  /** Shortest time between two writes of one key's last_used_at (default one minute). */
  lastUseIntervalMs?: number;
}

/**
 * API keys: bearer tokens (RFC 6750) that act as their user. Creates, lists and revokes keys, and
 * turns a presented token into its user. Only a SHA-256 of each token is stored (see api-key-token.ts).
 */
export class ApiKeyService {
  readonly #now: () => Date;
  readonly #lastUse: ApiKeyLastUse;

  constructor(
    private readonly keys: ApiKeyRepository,
    options: ApiKeyServiceOptions = {},
  ) {
    this.#now = options.now ?? (() => new Date());
    this.#lastUse = new ApiKeyLastUse(keys, options.log ?? silentLogger, options.lastUseIntervalMs);
  }

  /**
   * Creates a key for the user and returns it with its token; the token is not kept anywhere and
   * cannot be shown again. `expires_in` is a duration such as `30d` (at most 10 years); without it
   * the key never expires.
   * @throws DataValidationError for a label over 200 characters or a bad `expires_in` (field path in `errors`)
   * @throws RecordNotFoundError when no user has that name
   */
  async create(username: string, input: ApiKeyCreate = {}): Promise<CreatedApiKey> {
    const label = input.label?.trim() || null;
    if (label !== null && label.length > API_KEY_LABEL_MAX_LENGTH) {
      throw new DataValidationError(`A key label is at most ${API_KEY_LABEL_MAX_LENGTH} characters`, {
        errors: [{ path: '/label', message: `must be at most ${API_KEY_LABEL_MAX_LENGTH} characters` }],
      });
    }
    const now = this.#now();
    let expiresAt: string | null = null;
    if (input.expires_in !== undefined) {
      const lifetime = durationMs(input.expires_in);
      if (lifetime === undefined || lifetime > API_KEY_MAX_LIFETIME_MS) {
        throw new DataValidationError('expires_in is a number of minutes, hours or days such as 90m, 12h or 30d, at most 10 years', {
          errors: [{ path: '/expires_in', message: 'must be like 90m, 12h or 30d, at most 3650d' }],
        });
      }
      expiresAt = new Date(now.getTime() + lifetime).toISOString();
    }
    const { token, tokenHash, prefix } = newApiKeyToken();
    const key = await this.keys.insert({ id: newApiKeyId(), username, tokenHash, prefix, label, createdAt: now.toISOString(), expiresAt });
    if (key === undefined) throw new RecordNotFoundError(`No user is named "${username}"`);
    return { ...key, token };
  }

  /** The user's keys, newest first, revoked and expired ones included; `last_used_at` as this process knows it. */
  async list(username: string): Promise<ApiKey[]> {
    const keys = await this.keys.listByUsername(username);
    return keys.map((key) => this.#withLatestUse(key));
  }

  /**
   * Revokes a key: every later request with its token is refused. Revoking a revoked key changes
   * nothing and succeeds. With `owner`, only that user's key may be revoked (others' keys are "not
   * found", so ids of other users' keys are not confirmed).
   * @throws RecordNotFoundError when there is no such key (for that owner)
   */
  async revoke(id: string, options: { owner?: string } = {}): Promise<ApiKey> {
    const found = await this.keys.findById(id);
    if (found === undefined || (options.owner !== undefined && found.owner.username !== options.owner)) {
      throw new RecordNotFoundError(`No API key has the id "${id}"`);
    }
    const revokedAt = this.#now().toISOString();
    const revoked = await this.keys.revoke(id, revokedAt);
    this.#lastUse.forget(id);
    return this.#withLatestUse({ ...found.key, revoked_at: revoked ? revokedAt : found.key.revoked_at });
  }

  /**
   * The user a bearer token acts as. The token is looked up by its hash and the stored hash compared
   * in constant time; expiry and revocation are checked on every call (nothing is cached, so a
   * revocation anywhere takes effect on the next request).
   * @throws AuthenticationError for a malformed, unknown, expired or revoked token
   */
  async verifyToken(token: string): Promise<User> {
    if (!looksLikeApiKeyToken(token)) throw new AuthenticationError('The API key is not valid');
    const tokenHash = hashApiKeyToken(token);
    const found = await this.keys.findByTokenHash(tokenHash);
    if (found === undefined || !sameTokenHash(found.tokenHash, tokenHash)) throw new AuthenticationError('The API key is not valid');
    const now = this.#now();
    if (found.key.revoked_at !== null) throw new AuthenticationError('The API key has been revoked');
    if (found.key.expires_at !== null && Date.parse(found.key.expires_at) <= now.getTime()) {
      throw new AuthenticationError('The API key has expired');
    }
    this.#lastUse.record(found.key.id, now.getTime());
    return found.owner;
  }

  /** Writes pending "last used" times; call before closing the database. */
  flush(): Promise<void> {
    return this.#lastUse.flush();
  }

  #withLatestUse(key: ApiKey): ApiKey {
    const latest = this.#lastUse.latest(key.id);
    if (latest === undefined || (key.last_used_at !== null && Date.parse(key.last_used_at) >= latest)) return key;
    return { ...key, last_used_at: new Date(latest).toISOString() };
  }
}
