import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The process side of a throwaway server for tests (redis-server, mariadbd): find the binary, pick a
 * free loopback port, spawn, poll until it answers, stop on teardown. What the server is and how to
 * ask it whether it is ready stays with its own support file (redis-server.ts, mysql-server.ts).
 */

// Where distributions put server binaries; a non-login PATH (CI runners, IDEs) often lacks the sbin ones.
const SYSTEM_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];

/** PATH, then the usual system directories, then `extraDirs`. */
export function executableSearchPath(extraDirs: readonly string[] = []): string[] {
  return [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SYSTEM_DIRS, ...extraDirs];
}

/** The first of `names` found executable in `dirs` (names in order of preference), or undefined. */
export function findExecutable(names: readonly string[], dirs: readonly string[] = executableSearchPath()): string | undefined {
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The server is given a fixed port (rather than 0)
 * so that it can be stopped and started again on the same address in outage tests.
 */
export async function freePort(): Promise<number> {
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

export interface ThrowawayProcessOptions {
  /** How errors name the server, e.g. `redis-server`. */
  name: string;
  /** How long start() waits for isReady() before it stops the process and throws, in ms. */
  readyTimeoutMs: number;
  /** How long stop() waits after SIGTERM before SIGKILL, in ms. */
  stopTimeoutMs: number;
  /** Pause between two readiness probes, in ms. */
  pollIntervalMs: number;
  /** One readiness probe: true once the server answers (a fresh connection each time). */
  isReady(): Promise<boolean>;
  /** The end of the server's own log, quoted in start() errors. */
  logTail(): string;
}

/**
 * One child process of a throwaway server across its starts and stops. start() spawns it and
 * resolves once it is ready; it throws with the log's tail when the process exits first or is not
 * ready in time (and then stops it). stop() sends SIGTERM, then SIGKILL after the timeout.
 */
export class ThrowawayProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  constructor(private readonly options: ThrowawayProcessOptions) {}

  /** The running process's id, or undefined when it is not running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Spawns the process with `spawnChild` unless it is running; resolves once isReady() answers true. */
  async start(spawnChild: () => ChildProcess): Promise<void> {
    if (this.#child) return;
    const { name, readyTimeoutMs, pollIntervalMs } = this.options;
    const child = spawnChild();
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`${name} exited while starting:\n${this.options.logTail()}`);
      if (await this.options.isReady()) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${name} was not ready within ${readyTimeoutMs} ms:\n${this.options.logTail()}`);
      }
      await sleep(pollIntervalMs);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after stopTimeoutMs); resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.#exited) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.options.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      child.kill('SIGKILL');
      await this.#exited;
    }
    this.#child = undefined;
  }

  /** Sends a signal to the running process (SIGSTOP, SIGCONT); nothing when it is not running. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }
}
