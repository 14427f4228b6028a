import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SqliteDatabase } from '../../src/data/sqlite-database.js';

let dir: string;
let db: SqliteDatabase;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-sqlite-'));
  db = SqliteDatabase.open(join(dir, 'test.db'));
  await db.run('CREATE TABLE note (body TEXT NOT NULL)');
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A transaction that has written and now waits: resolves `open` once it is inside. */
function pausedTransaction(end: 'commit' | 'rollback') {
  let release!: () => void;
  let opened!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  const open = new Promise<void>((resolve) => (opened = resolve));
  const done = db.transaction(async (tx) => {
    await tx.run("INSERT INTO note (body) VALUES ('inside')");
    opened();
    await paused;
    if (end === 'rollback') throw new Error('roll back');
  });
  return { open, release, done };
}

it('keeps a write made outside a transaction when that transaction rolls back', async () => {
  const { open, release, done: failing } = pausedTransaction('rollback');
  await open;
  const outside = db.run("INSERT INTO note (body) VALUES ('outside')");
  release();
  await expect(failing).rejects.toThrow('roll back');
  await outside;
  expect(await db.all<{ body: string }>('SELECT body FROM note')).toEqual([{ body: 'outside' }]);
});

it('does not let a read outside a transaction see its uncommitted rows', async () => {
  const { open, release, done: failing } = pausedTransaction('rollback');
  await open;
  const seen = db.all<{ body: string }>('SELECT body FROM note');
  release();
  await expect(failing).rejects.toThrow('roll back');
  // The read waited for the transaction to end, so it never saw the row that was rolled back.
  expect(await seen).toEqual([]);
});
