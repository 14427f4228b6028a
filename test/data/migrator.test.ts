import { afterEach, beforeEach, expect, it } from 'vitest';
import { migrate } from '../../src/data/migrator.js';
import { MIGRATIONS } from '../../src/data/migrations/index.js';
import { describeEachEngine, type EngineDatabase } from '../support/engines.js';

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
