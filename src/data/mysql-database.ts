import mysql from 'mysql2/promise';
import type { DatabaseConfig } from '../core/config.js';
import { ConstraintViolationError, DBConnectionError } from '../core/errors.js';
import type { Database, Queryable, RunResult, SqlParams } from './database.js';

type MysqlConfig = Extract<DatabaseConfig, { kind: 'mysql' }>;

const CONSTRAINT_CODES = new Set(['ER_DUP_ENTRY', 'ER_NO_REFERENCED_ROW_2', 'ER_ROW_IS_REFERENCED_2']);

// Every shape in which mysql2 or the server reports "cannot talk to the database right now":
// socket errors, the protocol losing the connection, the server shutting down or refusing more
// clients, lock contention worth a retry, and the credentials or database being wrong.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_PACKETS_OUT_OF_ORDER',
  'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED', 'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED', 'ER_HOST_IS_BLOCKED', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR', 'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_OPTION_PREVENTS_STATEMENT', 'POOL_CLOSED',
  'ER_GET_CONNECTION_TIMEOUT', 'ER_CLIENT_INTERACTION_TIMEOUT',
]);
const UNAVAILABLE_MESSAGES = /pool is closed|connection is in closed state|connection lost|no connections available|queue limit reached/i;

function translate(error: unknown): unknown {
  if (error instanceof DBConnectionError || error instanceof ConstraintViolationError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONSTRAINT_CODES.has(code)) return new ConstraintViolationError('A uniqueness or reference rule was violated', { cause: error });
    if (UNAVAILABLE_CODES.has(code)) return new DBConnectionError('The database is unavailable', { cause: error });
  }
  if ((error as { fatal?: unknown }).fatal === true) return new DBConnectionError('The database connection failed', { cause: error });
  if (error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message)) {
    return new DBConnectionError('The database is unavailable', { cause: error });
  }
  return error;
}

/** How often a waiting withNamedLock asks for the lock again. */
const LOCK_POLL_MS = 250;

/** How many times a transaction is run when InnoDB keeps choosing it as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 3;

/** True for a (translated) error whose driver error is InnoDB's deadlock: the server rolled the transaction back. */
function isDeadlock(error: unknown): boolean {
  const cause = error instanceof DBConnectionError ? error.cause : error;
  return (cause as { code?: unknown } | undefined)?.code === 'ER_LOCK_DEADLOCK';
}

/** Rejects with DBConnectionError when work does not settle within ms; the late result is handed to onLate. */
function within<T>(work: Promise<T>, ms: number, message: string, onLate: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new DBConnectionError(message));
    }, ms);
  });
  void work.then(
    (value) => (timedOut ? onLate(value) : undefined),
    () => undefined,
  );
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** The production engine: a mysql2 pool, utf8mb4, UTC, timestamps returned as strings. */
export class MysqlDatabase implements Database {
  readonly dialect = 'mysql' as const;
  readonly #pool: mysql.Pool;
  readonly #acquireTimeoutMs: number;
  readonly #queryTimeoutMs: number;

  private constructor(pool: mysql.Pool, config: MysqlConfig) {
    this.#pool = pool;
    this.#acquireTimeoutMs = config.connectTimeoutMs;
    this.#queryTimeoutMs = config.queryTimeoutMs;
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
      // Idle connections are dropped before a server's or proxy's idle cut-off can break them.
      idleTimeout: 60_000,
      queueLimit: 0,
      connectTimeout: config.connectTimeoutMs,
      enableKeepAlive: true,
      namedPlaceholders: true,
      charset: 'utf8mb4_bin',
      timezone: 'Z',
      dateStrings: true,
      supportBigNumbers: true,
    });
    // mysql2 listens for only the first 'error' of a pooled connection; a second one (a broken
    // socket after a lost connection) would be an unhandled 'error' event and kill the process.
    // The failure itself reaches the caller of the next query as DBConnectionError.
    pool.on('connection', (connection) => {
      (connection as unknown as NodeJS.EventEmitter).on('error', () => undefined);
    });
    return new MysqlDatabase(pool, config);
  }

  /**
   * A pooled connection within the acquire bound: mysql2 itself waits for a free connection
   * forever, so a server that stopped answering would otherwise hang every request.
   */
  async #acquire(): Promise<mysql.PoolConnection> {
    try {
      return await within(this.#pool.getConnection(), this.#acquireTimeoutMs, 'The database did not answer in time', (late) =>
        late.release(),
      );
    } catch (error) {
      throw translate(error);
    }
  }

  /** Runs fn on a connection; a connection that failed is destroyed rather than handed back to the pool. */
  async #withConnection<T>(fn: (tx: Queryable, connection: mysql.PoolConnection) => Promise<T>): Promise<T> {
    const connection = await this.#acquire();
    let broken = false;
    const tx = this.#queryable(connection, () => (broken = true));
    try {
      return await fn(tx, connection);
    } catch (error) {
      const translated = translate(error);
      if (translated instanceof DBConnectionError && !isDeadlock(translated)) broken = true;
      throw translated;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  #queryable(connection: mysql.PoolConnection, markBroken: () => void): Queryable {
    // `query` (client-side escaping through named placeholders) rather than `execute`: server-side
    // prepared statements reject numbers for LIMIT placeholders on some servers and cost a round trip.
    // The per-query timeout bounds a server that accepted the query and then went silent.
    const send = async (sql: string, params: SqlParams | undefined, rowsAsArray = false): Promise<unknown> => {
      try {
        const [result] = await connection.query({ sql, values: params ?? {}, timeout: this.#queryTimeoutMs, rowsAsArray });
        return result;
      } catch (error) {
        const translated = translate(error);
        // A deadlock aborts the transaction, not the connection.
        if (translated instanceof DBConnectionError && !isDeadlock(translated)) markBroken();
        throw translated;
      }
    };
    return {
      all: async <T>(sql: string, params?: SqlParams) => (await send(sql, params)) as T[],
      values: async <T extends readonly unknown[]>(sql: string, params?: SqlParams) => (await send(sql, params, true)) as T[],
      get: async <T>(sql: string, params?: SqlParams) => ((await send(sql, params)) as T[])[0],
      run: async (sql: string, params?: SqlParams): Promise<RunResult> => {
        const header = (await send(sql, params)) as mysql.ResultSetHeader;
        return { changes: header.affectedRows ?? 0, lastInsertId: Number(header.insertId ?? 0) };
      },
    };
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#withConnection((tx) => tx.all<T>(sql, params));
  }

  values<T extends readonly unknown[]>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#withConnection((tx) => tx.values<T>(sql, params));
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.#withConnection((tx) => tx.get<T>(sql, params));
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#withConnection((tx) => tx.run(sql, params));
  }

  /**
   * Runs fn in a transaction. A transaction that InnoDB chose as a deadlock victim (rolled back by the
   * server, ER_LOCK_DEADLOCK) is run again, fn included, up to DEADLOCK_ATTEMPTS times in all: InnoDB
   * resolves a deadlock by aborting one side and expects the client to re-issue it (MariaDB manual,
   * "InnoDB Lock Modes", deadlocks). Safe because fn does database work only. Throws what fn throws,
   * DBConnectionError when the database is unreachable or the deadlocks persist.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#transactionOnce(fn);
      } catch (error) {
        if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error;
      }
    }
  }

  #transactionOnce<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#withConnection(async (tx, connection) => {
      await tx.run('START TRANSACTION');
      try {
        const result = await fn(tx);
        await tx.run('COMMIT');
        return result;
      } catch (error) {
        // A rollback that fails means the connection is gone, and the server rolls back by itself.
        await connection.query({ sql: 'ROLLBACK', timeout: this.#queryTimeoutMs }).catch(() => connection.destroy());
        throw error;
      }
    });
  }

  withNamedLock<T>(name: string, waitMs: number, fn: (session: Queryable) => Promise<T>): Promise<T> {
    return this.#withConnection(async (session) => {
      // GET_LOCK with timeout 0 answers at once, so no single query outlasts DB_QUERY_TIMEOUT_MS
      // however long the holder (e.g. another instance's migration) takes.
      const deadline = Date.now() + waitMs;
      while (Number((await session.get<{ acquired: unknown }>('SELECT GET_LOCK(:name, 0) AS acquired', { name }))?.acquired) !== 1) {
        if (Date.now() >= deadline) throw new DBConnectionError(`The lock "${name}" stayed taken for ${waitMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      }
      try {
        return await fn(session);
      } finally {
        // A connection that broke has lost the lock with its session; the server frees it.
        await session.get('SELECT RELEASE_LOCK(:name) AS released', { name }).catch(() => undefined);
      }
    });
  }

  async ping(): Promise<void> {
    await this.get('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
