import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './child-server.js';

const run = promisify(execFile);
const SERVER_BINARIES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd', '/usr/bin/mysqld'];

export interface BenchMariadb {
  /** `mysql://root@127.0.0.1:PORT/NAME` for a database on this server, created when missing. */
  database(name: string, options?: { fresh?: boolean }): Promise<string>;
  version: string;
  /** The server's process id (for its CPU time). */
  pid: number;
  stop(): Promise<void>;
}

export function mariadbBinary(): string | undefined {
  return SERVER_BINARIES.find((path) => existsSync(path));
}

/**
 * A throwaway MariaDB/MySQL server for the benchmark, on a datadir kept between runs (so a large fill
 * is paid once) and a random loopback port, without grant tables: no credentials to manage.
 */
export async function startMariadb(dataDir: string): Promise<BenchMariadb> {
  const binary = mariadbBinary();
  if (binary === undefined) throw new Error('no mariadbd/mysqld binary installed');
  if (!existsSync(join(dataDir, 'mysql'))) {
    await mkdir(dataDir, { recursive: true });
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal']);
  }
  const port = await freePort();
  const child = spawn(binary, [
    '--no-defaults', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${join(dataDir, 'bench.sock')}`, `--pid-file=${join(dataDir, 'bench.pid')}`, `--log-error=${join(dataDir, 'error.log')}`,
    '--user=root', '--skip-grant-tables', '--innodb-buffer-pool-size=512M', '--innodb-flush-log-at-trx-commit=2',
    '--max-connections=200',
  ], { stdio: 'ignore' });
  let admin: mysql.Connection | undefined;
  for (let attempt = 0; attempt < 120 && admin === undefined; attempt++) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with code ${child.exitCode}; see ${join(dataDir, 'error.log')}`);
    admin = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' }).catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      return undefined;
    });
  }
  if (admin === undefined) throw new Error('mariadbd did not accept connections in 30 s');
  const [rows] = await admin.query('SELECT VERSION() AS v');
  const version = String((rows as { v: string }[])[0]?.v);
  return {
    version,
    pid: child.pid!,
    async database(name, options = {}) {
      if (options.fresh) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      return `mysql://root@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await admin.end().catch(() => undefined);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
