import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, so the CLI runs exactly as `npx tsx src/cli.ts` would there. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Environment for a CLI child: the parent's PATH and HOME only, so a developer's own settings do not leak in. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'test', ...extra };
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: PROJECT_ROOT, env, stdio: 'pipe' });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion, writing `stdin` to it. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin!.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A long-running `serve` child whose JSON log lines are collected as they arrive. */
export class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawnCli(['serve'], env);
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.#exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  logRecords(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves with the base URL from the "listening" log line; rejects if the process exits first. */
  async listening(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.logRecords().find((r) => typeof r['address'] === 'string');
      if (line) return line['address'] as string;
      const exited = await Promise.race([this.#exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
      if (exited) throw new Error(`server exited (${exited.code ?? exited.signal}) before listening:\n${this.stderr}${this.stdout}`);
    }
    throw new Error(`server did not log its address within ${timeoutMs} ms:\n${this.stderr}${this.stdout}`);
  }

  stop(signal: NodeJS.Signals = 'SIGTERM') {
    this.child.kill(signal);
    return this.#exited;
  }

  /** For afterAll: makes sure no child outlives the test run. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.stop('SIGKILL');
  }
}
