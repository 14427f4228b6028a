import mysql from 'mysql2/promise';
import type { DatabaseConfig } from '../core/config.js';
import { ConstraintViolationError, DBConnectionError } from '../core/errors.js';
import type { Database, Queryable, RunResult, SqlParams } from './database.js';

type MysqlConfig = Extract<DatabaseConfig, { kind: 'mysql' }>;
type Executor = Pick<mysql.Pool | mysql.PoolConnection, 'query'>;

const CONSTRAINT_CODES = new Set(['ER_DUP_ENTRY', 'ER_NO_REFERENCED_ROW_2', 'ER_ROW_IS_REFERENCED_2']);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR', 'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'POOL_CLOSED', 'ER_GET_CONNECTION_TIMEOUT',
]);

function translate(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONSTRAINT_CODES.has(code)) return new ConstraintViolationError('A uniqueness or reference rule was violated', { cause: error });
    if (UNAVAILABLE_CODES.has(code)) return new DBConnectionError('The database is unavailable', { cause: error });
  }
  if ((error as { fatal?: unknown }).fatal === true) return new DBConnectionError('The database connection failed', { cause: error });
  if (error instanceof Error && /pool is closed|connect ETIMEDOUT|Can't add new command when connection is in closed state/i.test(error.message)) {
    return new DBConnectionError('The database is unavailable', { cause: error });
  }
  return error;
}

// `query` (client-side escaping through mysql2's named placeholders) rather than `execute`: server-side
// prepared statements reject numbers for LIMIT placeholders on some servers and cost an extra round trip.
async function queryRows<T>(executor: Executor, sql: string, params: SqlParams | undefined): Promise<T[]> {
  try {
    const [rows] = await executor.query(sql, params ?? {});
    return rows as T[];
  } catch (error) {
    throw translate(error);
  }
}

async function runStatement(executor: Executor, sql: string, params: SqlParams | undefined): Promise<RunResult> {
  try {
    const [result] = await executor.query(sql, params ?? {});
    const header = result as mysql.ResultSetHeader;
    return { changes: header.affectedRows ?? 0, lastInsertId: Number(header.insertId ?? 0) };
  } catch (error) {
    throw translate(error);
  }
}

function queryable(executor: Executor): Queryable {
  return {
    all: (sql, params) => queryRows(executor, sql, params),
    get: async (sql, params) => (await queryRows(executor, sql, params))[0],
    run: (sql, params) => runStatement(executor, sql, params),
  } as Queryable;
}

/** The production engine: a mysql2 pool, utf8mb4, UTC, timestamps returned as strings. */
export class MysqlDatabase implements Database {
  readonly dialect = 'mysql' as const;
  readonly #pool: mysql.Pool;
  readonly #queryable: Queryable;

  private constructor(pool: mysql.Pool) {
    this.#pool = pool;
    this.#queryable = queryable(pool);
  }

  static open(config: MysqlConfig): MysqlDatabase {
    const pool = mysql.createPool({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: config.poolSize,
      maxIdle: config.poolSize,
      queueLimit: 0,
      connectTimeout: config.connectTimeoutMs,
      enableKeepAlive: true,
      namedPlaceholders: true,
      charset: 'utf8mb4_bin',
      timezone: 'Z',
      dateStrings: true,
      supportBigNumbers: true,
    });
    return new MysqlDatabase(pool);
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#queryable.all<T>(sql, params);
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.#queryable.get<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#queryable.run(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let connection: mysql.PoolConnection;
    try {
      connection = await this.#pool.getConnection();
    } catch (error) {
      throw translate(error);
    }
    try {
      await connection.beginTransaction();
      const result = await fn(queryable(connection));
      await connection.commit();
      return result;
    } catch (error) {
      await connection.rollback().catch(() => connection.destroy());
      throw translate(error);
    } finally {
      connection.release();
    }
  }

  async ping(): Promise<void> {
    await this.get('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
