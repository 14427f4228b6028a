import type { Database, Queryable } from './database.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Migration } from './migrations/migration.js';

const LEDGER: Record<Database['dialect'], string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migration (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
  mysql: `CREATE TABLE IF NOT EXISTS schema_migration (
    version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(3) NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
};

// Looked up before creating the ledger, so an application user without CREATE (the least-privilege
// setup in sql/mysql/) starts cleanly on a schema the DBA created from the scripts.
const LEDGER_EXISTS: Record<Database['dialect'], string> = {
  sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'`,
  mysql: `SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = DATABASE() AND table_name = 'schema_migration'`,
};

export interface MigrationReport {
  applied: number[];
  current: number;
}

/** The advisory lock that lets one process at a time migrate a shared database. */
export const MIGRATION_LOCK = 'pixyproxy.migrate';
/** How long a start waits for another process's migrations (migration 005 took minutes on 1M rows). */
const MIGRATION_LOCK_WAIT_MS = 30 * 60_000;

/**
 * Brings the schema up to the newest migration. Each migration and its ledger row commit together
 * on SQLite; MySQL commits DDL implicitly, so there a failed migration is re-run from its first
 * statement and its statements are written to be safe to re-run only where they must be.
 * Processes sharing a MySQL database migrate one at a time (MIGRATION_LOCK): a second instance
 * starting at the same moment waits, then finds nothing left to apply. Throws DBConnectionError
 * when the database is unreachable or the lock stays taken for 30 minutes.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  return db.withNamedLock(MIGRATION_LOCK, MIGRATION_LOCK_WAIT_MS, (session) => migrateLocked(db, session, migrations));
}

/** Runs fn as one transaction on the session that holds the migration lock. */
async function inTransaction(session: Queryable, fn: (tx: Queryable) => Promise<void>): Promise<void> {
  await session.run('START TRANSACTION');
  try {
    await fn(session);
    await session.run('COMMIT');
  } catch (error) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function migrateLocked(db: Database, session: Queryable, migrations: readonly Migration[]): Promise<MigrationReport> {
  // On MySQL everything runs on the connection that holds the lock; on SQLite the session is the database.
  const transaction = (fn: (tx: Queryable) => Promise<void>) => (db.dialect === 'mysql' ? inTransaction(session, fn) : db.transaction(fn));
  if ((await session.get(LEDGER_EXISTS[db.dialect])) === undefined) await session.run(LEDGER[db.dialect]);
  const rows = await session.all<{ version: number }>('SELECT version FROM schema_migration');
  const done = new Set(rows.map((row) => Number(row.version)));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    await transaction(async (tx) => {
      for (const statement of migration[db.dialect]) await tx.run(statement);
      await tx.run('INSERT INTO schema_migration (version, name, applied_at) VALUES (:version, :name, :appliedAt)', {
        version: migration.version,
        name: migration.name,
        appliedAt: new Date().toISOString().replace('T', ' ').replace('Z', ''),
      });
    });
    applied.push(migration.version);
  }
  const current = Math.max(0, ...done, ...applied);
  return { applied, current };
}
