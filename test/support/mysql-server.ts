import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { executableSearchPath, findExecutable, freePort, ThrowawayProcess } from './throwaway-server.js';

/**
 * A throwaway MariaDB/MySQL server for tests: its own temp datadir, a random port on 127.0.0.1, its
 * own socket, no grant checks beyond a password-less root. It can be stopped and started again on
 * the same datadir (outage tests), and destroy() removes everything.
 */

const SERVER_NAMES = ['mariadbd', 'mysqld'];
const INSTALL_NAMES = ['mariadb-install-db', 'mysql_install_db'];
// Where a MySQL tarball install puts its binaries and scripts.
const TARBALL_DIRS = ['/usr/local/mysql/bin', '/usr/local/mysql/scripts'];
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const FREEZE_TIMEOUT_MS = 5_000;

/** The server binary the tests would start, or undefined when none is installed. */
export function findServerBinary(): string | undefined {
  return findExecutable(SERVER_NAMES, executableSearchPath(TARBALL_DIRS));
}

/**
 * True when every thread of the process is in the stopped state (Linux /proc). Where /proc is
 * missing there is nothing to poll, so it settles for a pause long enough for delivery.
 */
async function allThreadsStopped(pid: number): Promise<boolean> {
  let threads: string[];
  try {
    threads = await readdir(`/proc/${pid}/task`);
  } catch {
    await sleep(500);
    return true;
  }
  for (const thread of threads) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // The state follows the parenthesised command name, which may itself contain spaces or ')'.
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    if (state !== 'T' && state !== 't') return false;
  }
  return true;
}

// Durability and memory settings a throwaway server can afford: it is fast to start and light on a
// shared machine. `--loose-` keeps an option that one flavour lacks from failing the start.
const FAST_OPTIONS = [
  '--innodb-buffer-pool-size=32M',
  '--innodb-log-file-size=8M',
  '--innodb-flush-log-at-trx-commit=0',
  '--loose-innodb-doublewrite=0',
  '--skip-log-bin',
  '--loose-mysqlx=OFF',
  '--loose-performance-schema=OFF',
];

export class MysqlTestServer {
  readonly #process: ThrowawayProcess;

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
    /** As the binary reports it, e.g. `10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)`. */
    readonly version: string,
  ) {
    this.#process = new ThrowawayProcess({
      name: 'the MySQL server',
      readyTimeoutMs: READY_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      pollIntervalMs: 100,
      isReady: () => this.#accepts(),
      logTail: () => this.#logTail(),
    });
  }

  get isMariaDb(): boolean {
    return /mariadb/i.test(this.version);
  }

  get datadir(): string {
    return join(this.dir, 'data');
  }

  /** The server's own temp directory: a shared /tmp lets two servers initialising at once collide. */
  get tmpdir(): string {
    return join(this.dir, 'tmp');
  }

  get socket(): string {
    return join(this.dir, 'mysqld.sock');
  }

  /** A root URL for the server (no database selected). */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/`;
  }

  /** Initialises a datadir with mariadb-install-db (or mysqld --initialize-insecure) and starts the server. */
  static async create(binary = findServerBinary()): Promise<MysqlTestServer> {
    if (binary === undefined) throw new Error('no mariadbd or mysqld binary found on PATH or in /usr/sbin');
    const version = (spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim().replace(/^\S+\s+(?:Ver\s+)?/, '');
    const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-mysql-'));
    const server = new MysqlTestServer(binary, dir, await freePort(), version);
    try {
      await mkdir(server.tmpdir);
      server.#initialise();
      await server.start();
      await server.#dropAnonymousUsers();
      return server;
    } catch (error) {
      await server.destroy();
      throw error;
    }
  }

  #rootOptions(): string[] {
    // mysqld refuses to run as root unless told to; tests in containers often are root.
    return process.getuid?.() === 0 ? ['--user=root'] : [];
  }

  #initialise(): void {
    let result;
    if (this.isMariaDb) {
      const installDb = findExecutable(INSTALL_NAMES, [dirname(this.binary), ...executableSearchPath(TARBALL_DIRS)]);
      if (installDb === undefined) throw new Error('mariadb-install-db not found next to the server binary');
      result = spawnSync(
        installDb,
        [
          '--no-defaults',
          `--datadir=${this.datadir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          `--tmpdir=${this.tmpdir}`,
          ...this.#rootOptions(),
          ...FAST_OPTIONS,
        ],
        { encoding: 'utf8' },
      );
    } else {
      result = spawnSync(
        this.binary,
        ['--no-defaults', '--initialize-insecure', `--datadir=${this.datadir}`, `--tmpdir=${this.tmpdir}`, ...this.#rootOptions()],
        { encoding: 'utf8' },
      );
    }
    if (result.status !== 0) {
      throw new Error(`initialising the MySQL datadir failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  }

  /** Starts the server on its datadir and port; resolves once it accepts connections. */
  async start(): Promise<void> {
    await this.#process.start(() => {
      const out = openSync(join(this.dir, 'stdout.log'), 'a');
      const child = spawn(
        this.binary,
        [
          '--no-defaults',
          `--datadir=${this.datadir}`,
          `--socket=${this.socket}`,
          `--tmpdir=${this.tmpdir}`,
          `--port=${this.port}`,
          '--bind-address=127.0.0.1',
          `--pid-file=${join(this.dir, 'mysqld.pid')}`,
          `--log-error=${this.#errorLog}`,
          '--character-set-server=utf8mb4',
          '--default-time-zone=+00:00',
          '--max-connections=500',
          ...this.#rootOptions(),
          ...FAST_OPTIONS,
        ],
        { stdio: ['ignore', out, out] },
      );
      closeSync(out);
      return child;
    });
  }

  async #accepts(): Promise<boolean> {
    try {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 1000 });
      await connection.end();
      return true;
    } catch {
      return false;
    }
  }

  // mariadb-install-db creates anonymous ''@'localhost' accounts, which would shadow a test's
  // 'someone'@'%' for clients on 127.0.0.1 (the more specific host wins).
  async #dropAnonymousUsers(): Promise<void> {
    const connection = await mysql.createConnection({ uri: this.url });
    try {
      const [rows] = await connection.query("SELECT Host AS host FROM mysql.user WHERE User = ''");
      for (const { host } of rows as Array<{ host: string }>) await connection.query("DROP USER ''@?", [host]);
    } finally {
      await connection.end();
    }
  }

  get #errorLog(): string {
    return join(this.dir, 'error.log');
  }

  #logTail(): string {
    try {
      return readFileSync(this.#errorLog, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  /** Shuts the server down cleanly (SIGTERM), killing it if it does not exit in time. */
  async stop(): Promise<void> {
    await this.#process.stop();
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open but nothing answers, like a hung host.
   * kill() only queues the signal; a server thread already running can still answer a query sent in
   * the next instant, so this resolves once every thread of the server is seen stopped.
   */
  async freeze(): Promise<void> {
    const pid = this.#process.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    while (!(await allThreadsStopped(pid))) {
      if (Date.now() > deadline) throw new Error(`the MySQL server (pid ${pid}) did not stop within ${FREEZE_TIMEOUT_MS} ms`);
      await sleep(10);
    }
  }

  thaw(): void {
    this.#process.signal('SIGCONT');
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A fresh, empty database on a server; drop() removes it. */
export interface TestDatabase {
  name: string;
  /** DATABASE_URL for pixyproxy. */
  url: string;
  drop(): Promise<void>;
}

let databaseSequence = 0;

/** Creates an empty utf8mb4 database with a unique name, so test files never share tables. */
export async function createTestDatabase(serverUrl: string, prefix = 'pixyproxy_test'): Promise<TestDatabase> {
  databaseSequence += 1;
  const name = `${prefix}_${process.pid}_${databaseSequence}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await mysql.createConnection({ uri: serverUrl });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const connection = await mysql.createConnection({ uri: serverUrl });
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}
