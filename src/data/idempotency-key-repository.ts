import { ConstraintViolationError, type SerializedError } from '../core/errors.js';
import type { Database } from './database.js';
import { fromSqlTime, toSqlTime } from './sql-time.js';

/** One Idempotency-Key of one user, as stored (migration 007). Times are ISO 8601 UTC. */
export interface IdempotencyRecord {
  username: string;
  key: string;
  /** SHA-256 (hex) of the request the key was first used with; another request with the key is refused. */
  requestSha256: string;
  /** The generation job the first request started (also the guid of the image it makes). */
  jobId: string;
  /** A finished job's error, to replay; undefined while it runs and after a success. */
  failure: SerializedError | undefined;
  createdAt: string;
  expiresAt: string;
}

interface IdempotencyRow {
  username: string;
  idempotency_key: string;
  request_sha256: string;
  job_id: string;
  failure: string | null;
  created_at: string | Date;
  expires_at: string | Date;
}

function recordFromRow(row: IdempotencyRow): IdempotencyRecord {
  return {
    username: row.username,
    key: row.idempotency_key,
    requestSha256: row.request_sha256,
    jobId: row.job_id,
    failure: row.failure === null ? undefined : (JSON.parse(row.failure) as SerializedError),
    createdAt: fromSqlTime(row.created_at),
    expiresAt: fromSqlTime(row.expires_at),
  };
}

export type NewIdempotencyRecord = Omit<IdempotencyRecord, 'failure'>;

/** Idempotency keys, durable in the database so they hold across instances and restarts. */
export interface IdempotencyKeyRepository {
  /**
   * Stores the key unless the user already has it (an expired row is replaced). Returns undefined
   * when this call stored it (the caller owns the key), else the row that was there first.
   */
  claim(record: NewIdempotencyRecord, now: string): Promise<IdempotencyRecord | undefined>;
  /** Remembers how the key's job failed, so later requests with the key replay it. */
  recordFailure(username: string, key: string, jobId: string, failure: SerializedError): Promise<void>;
  /** Forgets the key if it still names this job (the job never started, or was lost): a retry may start anew. */
  release(username: string, key: string, jobId: string): Promise<void>;
  /** Removes keys that expired before now; returns how many. */
  deleteExpired(now: string): Promise<number>;
}

const COLUMNS = 'username, idempotency_key, request_sha256, job_id, failure, created_at, expires_at';
const MATCH = 'username = :username AND idempotency_key = :key';

export class SqlIdempotencyKeyRepository implements IdempotencyKeyRepository {
  constructor(private readonly db: Database) {}

  async claim(record: NewIdempotencyRecord, now: string): Promise<IdempotencyRecord | undefined> {
    const match = { username: record.username, key: record.key };
    await this.db.run(`DELETE FROM idempotency_key WHERE ${MATCH} AND expires_at <= :now`, { ...match, now: toSqlTime(now) });
    try {
      await this.db.run(
        `INSERT INTO idempotency_key (username, idempotency_key, request_sha256, job_id, created_at, expires_at)
         VALUES (:username, :key, :requestSha256, :jobId, :createdAt, :expiresAt)`,
        {
          ...match,
          requestSha256: record.requestSha256,
          jobId: record.jobId,
          createdAt: toSqlTime(record.createdAt),
          expiresAt: toSqlTime(record.expiresAt),
        },
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConstraintViolationError)) throw error;
    }
    const row = await this.db.get<IdempotencyRow>(`SELECT ${COLUMNS} FROM idempotency_key WHERE ${MATCH}`, match);
    // Released between the insert and the read: the caller may simply try again.
    if (row === undefined) return this.claim(record, now);
    return recordFromRow(row);
  }

  async recordFailure(username: string, key: string, jobId: string, failure: SerializedError): Promise<void> {
    await this.db.run(`UPDATE idempotency_key SET failure = :failure WHERE ${MATCH} AND job_id = :jobId`, {
      username,
      key,
      jobId,
      failure: JSON.stringify(failure),
    });
  }

  async release(username: string, key: string, jobId: string): Promise<void> {
    await this.db.run(`DELETE FROM idempotency_key WHERE ${MATCH} AND job_id = :jobId`, { username, key, jobId });
  }

  async deleteExpired(now: string): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM idempotency_key WHERE expires_at <= :now', { now: toSqlTime(now) });
    return changes;
  }
}
