import type { ApiKey } from '../core/models/api-key.js';
import type { User } from '../core/models/user.js';
import type { Database } from './database.js';
import { fromSqlTime, toSqlTime } from './sql-time.js';

/** An `api_key` row as both drivers return it, with its owner's name and flags joined in. */
interface ApiKeyRow {
  id: string;
  token_hash: string;
  prefix: string;
  label: string | null;
  created_at: string | Date;
  expires_at: string | Date | null;
  revoked_at: string | Date | null;
  last_used_at: string | Date | null;
  username: string;
  is_admin: number | boolean;
  user_created_at: string | Date;
}

const COLUMNS = `k.id, k.token_hash, k.prefix, k.label, k.created_at, k.expires_at, k.revoked_at, k.last_used_at,
  u.username, u.is_admin, u.created_at AS user_created_at`;

const optionalTime = (value: string | Date | null): string | null => (value === null ? null : fromSqlTime(value));

function apiKeyFromRow(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    label: row.label,
    prefix: row.prefix,
    created_at: fromSqlTime(row.created_at),
    expires_at: optionalTime(row.expires_at),
    revoked_at: optionalTime(row.revoked_at),
    last_used_at: optionalTime(row.last_used_at),
  };
}

function ownerFromRow(row: ApiKeyRow): User {
  return { username: row.username, is_admin: Boolean(row.is_admin), created_at: fromSqlTime(row.user_created_at) };
}

/** What the access service stores for a new key; times are RFC 3339 UTC. */
export interface NewApiKey {
  id: string;
  /** The owner; the key is tied to that user's row and deleted with it. */
  username: string;
  /** Lowercase hex SHA-256 of the token; the token itself is never stored. */
  tokenHash: string;
  prefix: string;
  label: string | null;
  createdAt: string;
  expiresAt: string | null;
}

/** A stored key with its owner and its token hash (which never leaves the data and service layers). */
export interface ApiKeyWithOwner {
  key: ApiKey;
  owner: User;
  tokenHash: string;
}

export interface ApiKeyRepository {
  /** Stores a key; undefined when no user has that name. Throws ConstraintViolationError on a duplicate id or hash. */
  insert(key: NewApiKey): Promise<ApiKey | undefined>;
  /** The key whose token hashes to this value (one unique-index probe), with its owner. */
  findByTokenHash(tokenHash: string): Promise<ApiKeyWithOwner | undefined>;
  findById(id: string): Promise<ApiKeyWithOwner | undefined>;
  /** A user's keys, revoked and expired ones included, newest first. */
  listByUsername(username: string): Promise<ApiKey[]>;
  /** Marks a key revoked at the given time, unless it already is; false when nothing changed. */
  revoke(id: string, revokedAt: string): Promise<boolean>;
  /** Moves last_used_at forward to usedAt (never backward: writes from several processes may cross). */
  recordLastUsed(id: string, usedAt: string): Promise<void>;
}

export class SqlApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Database) {}

  async insert(key: NewApiKey): Promise<ApiKey | undefined> {
    // INSERT ... SELECT resolves the owner's row id in the same statement: no user, no row.
    const { changes } = await this.db.run(
      `INSERT INTO api_key (id, user_id, token_hash, prefix, label, created_at, expires_at)
       SELECT :id, u.id, :tokenHash, :prefix, :label, :createdAt, :expiresAt FROM user u WHERE u.username = :username`,
      {
        id: key.id,
        username: key.username,
        tokenHash: key.tokenHash,
        prefix: key.prefix,
        label: key.label,
        createdAt: toSqlTime(key.createdAt),
        expiresAt: key.expiresAt === null ? null : toSqlTime(key.expiresAt),
      },
    );
    if (changes === 0) return undefined;
    return (await this.findById(key.id))?.key;
  }

  async findByTokenHash(tokenHash: string): Promise<ApiKeyWithOwner | undefined> {
    return this.#findOne('k.token_hash = :tokenHash', { tokenHash });
  }

  async findById(id: string): Promise<ApiKeyWithOwner | undefined> {
    return this.#findOne('k.id = :id', { id });
  }

  async listByUsername(username: string): Promise<ApiKey[]> {
    const rows = await this.db.all<ApiKeyRow>(
      `SELECT ${COLUMNS} FROM api_key k JOIN user u ON u.id = k.user_id
       WHERE u.username = :username ORDER BY k.created_at DESC, k.id`,
      { username },
    );
    return rows.map(apiKeyFromRow);
  }

  async revoke(id: string, revokedAt: string): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE api_key SET revoked_at = :revokedAt WHERE id = :id AND revoked_at IS NULL', {
      id,
      revokedAt: toSqlTime(revokedAt),
    });
    return changes > 0;
  }

  async recordLastUsed(id: string, usedAt: string): Promise<void> {
    await this.db.run(
      'UPDATE api_key SET last_used_at = :usedAt WHERE id = :id AND (last_used_at IS NULL OR last_used_at < :usedAt)',
      { id, usedAt: toSqlTime(usedAt) },
    );
  }

  async #findOne(where: string, params: Record<string, string>): Promise<ApiKeyWithOwner | undefined> {
    const row = await this.db.get<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_key k JOIN user u ON u.id = k.user_id WHERE ${where}`, params);
    return row === undefined ? undefined : { key: apiKeyFromRow(row), owner: ownerFromRow(row), tokenHash: row.token_hash };
  }
}
