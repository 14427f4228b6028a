import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ConstraintViolationError, DBConnectionError } from '../core/errors.js';
import type { Database, Queryable, RunResult, SqlParams, SqlValue } from './database.js';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT)/;

function translate(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_CONSTRAINT')) return new ConstraintViolationError('A uniqueness or reference rule was violated', { cause: error });
    if (UNAVAILABLE_CODES.test(code)) return new DBConnectionError('The database is unavailable', { cause: error });
  }
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new DBConnectionError('The database is closed', { cause: error });
  }
  return error;
}

// better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1 here so
// repositories can pass the same values to both engines.
function bindable(params: SqlParams | undefined): Record<string, Exclude<SqlValue, boolean>> {
  const out: Record<string, Exclude<SqlValue, boolean>> = {};
  if (params) for (const [key, value] of Object.entries(params)) out[key] = typeof value === 'boolean' ? Number(value) : value;
  return out;
}

/** Serialises transactions: the connection is shared, so two must never interleave. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** The embedded engine: one synchronous better-sqlite3 connection in WAL mode, statements cached. */
export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly #db: BetterSqlite3.Database;
  readonly #statements = new Map<string, Statement>();
  // `raw(true)` is a mode of the statement itself, so array reads get their own prepared copies.
  readonly #rawStatements = new Map<string, Statement>();
  readonly #transactions = new Mutex();

  private constructor(db: BetterSqlite3.Database) {
    this.#db = db;
  }

  static open(file: string): SqliteDatabase {
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      const db = new BetterSqlite3(file);
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode keeps every commit across a process crash; only an OS crash can lose the last ones.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      return new SqliteDatabase(db);
    } catch (error) {
      throw translate(error);
    }
  }

  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #rawStatement(sql: string): Statement {
    let statement = this.#rawStatements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql).raw(true);
      this.#rawStatements.set(sql, statement);
    }
    return statement;
  }

  #sync<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(translate(error));
    }
  }

  // The statements themselves; a transaction's body gets these directly.
  readonly #direct: Queryable = {
    all: <T>(sql: string, params?: SqlParams) => this.#sync(() => this.#statement(sql).all(bindable(params)) as T[]),
    values: <T extends readonly unknown[]>(sql: string, params?: SqlParams) =>
      this.#sync(() => this.#rawStatement(sql).all(bindable(params)) as unknown as T[]),
    get: <T>(sql: string, params?: SqlParams) => this.#sync(() => this.#statement(sql).get(bindable(params)) as T | undefined),
    run: (sql: string, params?: SqlParams) =>
      this.#sync(() => {
        const result = this.#statement(sql).run(bindable(params));
        return { changes: result.changes, lastInsertId: Number(result.lastInsertRowid) };
      }),
  };

  // One connection serves everyone: a statement issued while another caller's transaction is open
  // would run inside it (and vanish with its rollback), so it waits for that transaction to end.
  #outside<T>(fn: () => Promise<T>): Promise<T> {
    return this.#db.inTransaction ? this.#transactions.run(fn) : fn();
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#outside(() => this.#direct.all<T>(sql, params));
  }

  values<T extends readonly unknown[]>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#outside(() => this.#direct.values<T>(sql, params));
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.#outside(() => this.#direct.get<T>(sql, params));
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#outside(() => this.#direct.run(sql, params));
  }

  /** Runs several statements separated by semicolons, for migrations. */
  exec(sql: string): Promise<void> {
    return this.#sync(() => void this.#db.exec(sql));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#transactions.run(async () => {
      await this.#sync(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.#direct);
        await this.#sync(() => this.#db.exec('COMMIT'));
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** One process per SQLite file (the documented deployment): no other process to exclude. */
  withNamedLock<T>(_name: string, _waitMs: number, fn: (session: Queryable) => Promise<T>): Promise<T> {
    return fn(this);
  }

  ping(): Promise<void> {
    return this.#sync(() => void this.#statement('SELECT 1').get());
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
