import { afterEach, beforeEach, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { migrate } from '../../src/data/migrator.js';
import { MIGRATIONS } from '../../src/data/migrations/index.js';
import { MysqlDatabase } from '../../src/data/mysql-database.js';
import { describeEachEngine, describeMysql, type EngineDatabase } from '../support/engines.js';
import { createTestDatabase } from '../support/mysql-server.js';

const NEWEST = Math.max(...MIGRATIONS.map((migration) => migration.version));

describeEachEngine((engine) => {
  let e: EngineDatabase;

  beforeEach(async () => {
    e = await engine.open();
  });
  afterEach(() => e.close());

  it('applies every migration to an empty database and records each in schema_migration', async () => {
    expect(await migrate(e.db)).toEqual({ applied: MIGRATIONS.map((m) => m.version), current: NEWEST });
    const ledger = await e.db.all<{ version: number; name: string }>('SELECT version, name FROM schema_migration ORDER BY version');
    expect(ledger.map((row) => ({ version: Number(row.version), name: row.name }))).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    for (const table of ['user', 'image', 'image_tag']) {
      expect(Number((await e.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n)).toBe(0);
    }
  });

  it('applies nothing the second time', async () => {
    await migrate(e.db);
    expect(await migrate(e.db)).toEqual({ applied: [], current: NEWEST });
    const ledger = await e.db.all('SELECT version FROM schema_migration');
    expect(ledger).toHaveLength(MIGRATIONS.length);
  });

  it('applies only the migrations newer than the ledger', async () => {
    const next = { version: NEWEST + 1, name: 'test: add a table', sqlite: ['CREATE TABLE probe (id INTEGER)'], mysql: ['CREATE TABLE probe (id INT)'] };
    await migrate(e.db);
    expect(await migrate(e.db, [...MIGRATIONS, next])).toEqual({ applied: [NEWEST + 1], current: NEWEST + 1 });
    expect(await e.db.all('SELECT id FROM probe')).toEqual([]);
  });
});

describeMysql('two processes starting on one empty MySQL database', () => {
  it('apply each migration once: the second waits for the first, then finds nothing to do', async () => {
    const database = await createTestDatabase(inject('mysqlServerUrl'));
    // Two pools, as two server processes would have.
    const [a, b] = [0, 1].map(() => MysqlDatabase.open(mysqlConfigOf(database.url)));
    try {
      const reports = await Promise.all([migrate(a!), migrate(b!)]);
      expect(reports.map((report) => report.current)).toEqual([NEWEST, NEWEST]);
      expect(reports.flatMap((report) => report.applied).sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
      const ledger = await a!.all<{ version: number }>('SELECT version FROM schema_migration ORDER BY version');
      expect(ledger.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
      await database.drop();
    }
  });
});

function mysqlConfigOf(url: string) {
  const config = loadConfig({ DATABASE_URL: url }).database;
  if (config.kind !== 'mysql') throw new Error('expected a MySQL URL');
  return config;
}
