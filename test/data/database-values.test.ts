import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type EngineDatabase } from '../support/engines.js';

describeEachEngine((engine) => {
  let database: EngineDatabase;

  beforeAll(async () => {
    database = await engine.open();
    await database.db.run('CREATE TABLE note (id INTEGER PRIMARY KEY, body VARCHAR(32) NOT NULL, remark VARCHAR(32))');
    await database.db.run("INSERT INTO note (id, body, remark) VALUES (1, 'first', NULL), (2, 'second', 'kept')");
  });
  afterAll(() => database.close());

  it('returns each row as its values in the order of the SELECT list, not of the table', async () => {
    const rows = await database.db.values<[string, string | null, number]>('SELECT body, remark, id FROM note ORDER BY id');
    expect(rows).toEqual([
      ['first', null, 1],
      ['second', 'kept', 2],
    ]);
  });

  it('binds named parameters and reads arrays inside a transaction too', async () => {
    const rows = await database.db.transaction((tx) => tx.values<[number]>('SELECT id FROM note WHERE body = :body', { body: 'second' }));
    expect(rows).toEqual([[2]]);
  });

  it('keeps object rows for the same SQL read with all()', async () => {
    const sql = 'SELECT id, body FROM note WHERE id = :id';
    await database.db.values(sql, { id: 1 });
    expect(await database.db.all(sql, { id: 1 })).toEqual([{ id: 1, body: 'first' }]);
  });
});
