import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, ThrowawayProcess } from './throwaway-server.js';

/**
 * A throwaway redis-server for tests: a random loopback port, no persistence (`--save ''
 * --appendonly no`), its own temp directory. It can be stopped and started again on the same port
 * (outage tests); destroy() removes everything.
 */

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** The redis-server binary the tests would start, or undefined when none is installed. */
export function findRedisServerBinary(): string | undefined {
  return findExecutable(['redis-server']);
}

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
  readonly #process: ThrowawayProcess;
  #log = '';

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
  ) {
    this.#process = new ThrowawayProcess({
      name: 'redis-server',
      readyTimeoutMs: READY_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      pollIntervalMs: 50,
      isReady: () => answersPing(this.port),
      logTail: () => this.#log,
    });
  }

  /** REDIS_URL for pixyproxy. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process.running;
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
    await this.#process.start(() => {
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
      return child;
    });
  }

  /** Stops the server (SIGTERM, then SIGKILL); every client connection drops and its data is gone. */
  async stop(): Promise<void> {
    await this.#process.stop();
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
