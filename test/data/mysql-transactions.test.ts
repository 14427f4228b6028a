import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Queryable } from '../../src/data/database.js';
import { describeMysql, MYSQL, type EngineDatabase } from '../support/engines.js';

describeMysql('MysqlDatabase transactions', () => {
  let e: EngineDatabase;

  beforeAll(async () => {
    e = await MYSQL.open();
    await e.db.run('CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB');
    await e.db.run('INSERT INTO counter (id, n) VALUES (1, 0), (2, 0)');
  });
  afterAll(() => e.close());

  it('runs a deadlock victim again, so both crossing transactions commit their work once', async () => {
    // Two transactions lock rows 1 and 2 in opposite orders: InnoDB aborts one as the deadlock victim.
    let bothLocked!: () => void;
    let lockedFirst = 0;
    const firstLocksHeld = new Promise<void>((resolve) => (bothLocked = resolve));
    let runs = 0;
    const crossing = (first: number, second: number) =>
      e.db.transaction(async (tx: Queryable) => {
        runs += 1;
        await tx.run('UPDATE counter SET n = n + 1 WHERE id = :id', { id: first });
        lockedFirst += 1;
        if (lockedFirst === 2) bothLocked();
        await firstLocksHeld;
        await tx.run('UPDATE counter SET n = n + 1 WHERE id = :id', { id: second });
      });
    await Promise.all([crossing(1, 2), crossing(2, 1)]);
    expect(runs).toBe(3);
    expect(await e.db.all('SELECT id, n FROM counter ORDER BY id')).toEqual([{ id: 1, n: 2 }, { id: 2, n: 2 }]);
  });
});
