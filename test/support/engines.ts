import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import type { Database, Dialect } from '../../src/data/database.js';
import { migrate } from '../../src/data/migrator.js';
import { openDatabase } from '../../src/data/open-database.js';
import { createTestDatabase } from './mysql-server.js';

/** A fresh, empty database on one engine. */
export interface EngineDatabase {
  db: Database;
  /** The same database as a DATABASE_URL, for building the whole app on it. */
  databaseUrl: string;
  close(): Promise<void>;
}

export interface Engine {
  name: Dialect;
  /** False when no MySQL server is available (the global setup has said so loudly). */
  available: boolean;
  open(): Promise<EngineDatabase>;
}

const mysqlServerUrl = inject('mysqlServerUrl');

async function openUrl(databaseUrl: string): Promise<Database> {
  return openDatabase(loadConfig({ DATABASE_URL: databaseUrl }).database);
}

export const SQLITE: Engine = {
  name: 'sqlite',
  available: true,
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-sqlite-'));
    const databaseUrl = `sqlite:${join(dir, 'pixyproxy.db')}`;
    const db = await openUrl(databaseUrl);
    return {
      db,
      databaseUrl,
      async close() {
        await db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

export const MYSQL: Engine = {
  name: 'mysql',
  available: mysqlServerUrl !== '',
  async open() {
    const database = await createTestDatabase(mysqlServerUrl);
    const db = await openUrl(database.url);
    return {
      db,
      databaseUrl: database.url,
      async close() {
        await db.close();
        await database.drop();
      },
    };
  },
};

export const ENGINES: readonly Engine[] = [SQLITE, MYSQL];

/** Declares the same suite once per engine: `on sqlite > ...` and `on mysql > ...`. */
export function describeEachEngine(body: (engine: Engine) => void): void {
  for (const engine of ENGINES) describe.skipIf(!engine.available)(`on ${engine.name}`, () => body(engine));
}

/** Declares a suite that only makes sense on MySQL (scripts, EXPLAIN, outages). */
export const describeMysql: typeof describe = describe.skipIf(!MYSQL.available) as typeof describe;

/** Deletes every application row, keeping the schema: cheaper than a fresh database per test. */
export async function deleteAllRows(db: Database): Promise<void> {
  for (const table of ['api_key', 'idempotency_key', 'image_tag', 'image', 'usage_record', 'quota_reservation', 'user_quota', 'user']) await db.run(`DELETE FROM ${table}`);
}

/** What useMigratedDatabase() hands a suite. */
export interface MigratedDatabase {
  /** The suite's database, every migration applied; read it inside hooks and tests, once beforeAll has run. */
  readonly db: Database;
}

/**
 * One database on `engine` for the calling suite, its hooks registered where this is called (so they
 * run before the suite's own): opened and migrated in beforeAll, emptied by deleteAllRows() before
 * each test, closed in afterAll.
 */
export function useMigratedDatabase(engine: Engine): MigratedDatabase {
  let database: EngineDatabase | undefined;
  beforeAll(async () => {
    database = await engine.open();
    await migrate(database.db);
  });
  beforeEach(() => deleteAllRows(database!.db));
  afterAll(() => database?.close());
  return {
    get db(): Database {
      if (database === undefined) throw new Error('useMigratedDatabase: the database opens in beforeAll; read it from a hook or a test');
      return database.db;
    },
  };
}
