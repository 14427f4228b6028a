import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A throwaway redis-server for tests: a random loopback port, no persistence (`--save ''
 * --appendonly no`), its own temp directory. It can be stopped and started again on the same port
 * (outage tests); destroy() removes everything.
 */

const EXTRA_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/sbin'];
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** The redis-server binary the tests would start, or undefined when none is installed. */
export function findRedisServerBinary(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when the server answers PING with PONG on a fresh connection. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export class RedisTestServer {
  #process: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #log = '';

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  /** REDIS_URL for pixyproxy. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  static async create(binary = findRedisServerBinary()): Promise<RedisTestServer> {
    if (binary === undefined) throw new Error('no redis-server binary found on PATH or in /usr/bin');
    const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-redis-'));
    const server = new RedisTestServer(binary, dir, await freePort());
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.destroy();
      throw error;
    }
  }

  /** Starts the server on its port; resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.#process) return;
    const child = spawn(
      this.binary,
      [
        '--port', String(this.port),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
        '--dir', this.dir,
        // BullMQ warns unless evictions are off: an evicted job key would lose a job.
        '--maxmemory-policy', 'noeviction',
        '--loglevel', 'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#log = '';
    const keep = (chunk: Buffer) => (this.#log = (this.#log + chunk.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#process = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
      if (this.#process === child) this.#process = undefined;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`redis-server exited while starting:\n${this.#log}`);
      if (await answersPing(this.port)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server did not answer within ${READY_TIMEOUT_MS} ms:\n${this.#log}`);
      }
      await sleep(50);
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL); every client connection drops and its data is gone. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || !this.#exited) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      child.kill('SIGKILL');
      await this.#exited;
    }
    this.#process = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

let prefixSequence = 0;

/** A key prefix no other test (file, run or worker) uses, so tests can share one server. */
export function uniqueRedisPrefix(label = 'test'): string {
  prefixSequence += 1;
  return `pixyproxy-${label}-${process.pid}-${prefixSequence}-${Math.random().toString(36).slice(2, 8)}`;
}
