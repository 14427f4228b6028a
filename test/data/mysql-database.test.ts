import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { DBConnectionError } from '../../src/core/errors.js';
import { MysqlDatabase } from '../../src/data/mysql-database.js';

// These need no MySQL server: they check how the adapter fails when there is none to talk to.

function openOn(port: number): MysqlDatabase {
  const config = loadConfig({ DATABASE_URL: `mysql://app:secret@127.0.0.1:${port}/pixyproxy`, DB_CONNECT_TIMEOUT_MS: '500' }).database;
  if (config.kind !== 'mysql') throw new Error('expected a mysql config');
  return MysqlDatabase.open(config);
}

/** A TCP listener that accepts connections and never says anything, like a hung server. */
async function silentListener(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { server, port: address.port, sockets };
}

describe('MysqlDatabase without a reachable server', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('rejects with DBConnectionError, the driver error as cause, when nothing listens on the port', async () => {
    const { server, port } = await silentListener();
    await new Promise((resolve) => server.close(resolve));
    const db = openOn(port);
    cleanups.push(() => db.close());
    const error = await db.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DBConnectionError);
    expect((error as DBConnectionError).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects every waiting query with DBConnectionError when the server accepts but never answers', async () => {
    const listener = await silentListener();
    cleanups.push(() => new Promise((resolve) => listener.server.close(resolve)));
    cleanups.push(() => listener.sockets.forEach((socket) => socket.destroy()));
    const db = openOn(listener.port);
    cleanups.push(() => db.close());
    // More queries than the pool has connections (10): the extra ones wait for a connection that never comes.
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => db.all('SELECT 1')));
    expect(results.map((result) => (result.status === 'rejected' ? result.reason.constructor.name : 'fulfilled'))).toEqual(
      Array(12).fill('DBConnectionError'),
    );
  });
});
