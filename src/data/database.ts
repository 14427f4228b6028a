/** Values a named SQL parameter (`:name`) can take. Use null, never undefined: mysql2 rejects it. */
export type SqlValue = string | number | bigint | boolean | null | Buffer;
export type SqlParams = Readonly<Record<string, SqlValue>>;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** Auto-increment id of an inserted row (0 when none). */
  lastInsertId: number;
}

/** What both a connection and a transaction can do. All SQL uses named parameters only. */
export interface Queryable {
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  /**
   * Like `all`, each row as an array of its values in the SELECT's column order (better-sqlite3's
   * `raw()`, mysql2's `rowsAsArray`): no object with a key per column is built for a row, which is
   * most of the cost of reading a listing page of wide rows.
   */
  values<T extends readonly unknown[]>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  run(sql: string, params?: SqlParams): Promise<RunResult>;
}

export type Dialect = 'sqlite' | 'mysql';

/**
 * The database port. Adapters translate driver failures into DBConnectionError (unreachable, busy)
 * and ConstraintViolationError (unique or foreign key violated), with the driver error as `cause`.
 */
export interface Database extends Queryable {
  readonly dialect: Dialect;
  /**
   * Runs fn inside a transaction: commits when it resolves, rolls back when it throws. fn must do
   * database work only (no network calls), so a transaction never waits on anything slow, and so it
   * can be run again: the MySQL adapter re-runs a transaction that InnoDB aborted as a deadlock victim.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs fn while holding the advisory lock `name`, which every process sharing the database sees;
   * fn gets one connection (`session`) that holds it. MySQL: `GET_LOCK`/`RELEASE_LOCK` (MariaDB
   * manual, "GET_LOCK"), polled until waitMs has passed, then DBConnectionError. SQLite: the file
   * serves one process, so fn runs at once on the database itself.
   */
  withNamedLock<T>(name: string, waitMs: number, fn: (session: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** SQL text per dialect, for the few statements that differ between engines. */
export type DialectSql = Readonly<Record<Dialect, string>>;
