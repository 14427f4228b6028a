import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { CLI_BUNDLE, PROJECT_ROOT } from './cli-bundle.js';

export { PROJECT_ROOT };

/** Environment for a CLI child: the parent's PATH and HOME only, so a developer's own settings do not leak in. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'test', ...extra };
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // The CLI built from the sources by the test run's global setup (test/support/cli-bundle.ts).
  return spawn(process.execPath, [CLI_BUNDLE, ...args], { cwd: PROJECT_ROOT, env, stdio: 'pipe' });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion, writing `stdin` to it. `env` is passed through `cliEnv`. */
export function runCli(args: string[], env: Record<string, string>, stdin: string | Buffer = ''): Promise<CliResult> {
  const child = spawnCli(args, cliEnv(env));
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

type LogLine = Record<string, unknown>;

/** A running `serve` child whose JSON log lines are collected as they arrive. */
export class ServerProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT, from the "listening" log line. */
  address = '';
  /** Every JSON log line from stdout so far, parsed. */
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;

  constructor(env: NodeJS.ProcessEnv, args: string[] = ['serve']) {
    this.child = spawnCli(args, env);
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      if (text.startsWith('{')) this.logs.push(JSON.parse(text) as LogLine);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first log line (past or future) matching the predicate; rejects if the process exits first. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    let exit: Exit | undefined;
    void this.exited.then((e) => (exit = e));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find(predicate);
      if (line) return line;
      if (exit) throw new Error(`server exited (${exit.code ?? exit.signal}) before the log line:\n${this.stderr}${this.stdout}`);
      if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms:\n${this.stderr}${this.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.child.kill(signal);
    return this.exited;
  }

  /** For afterAll/afterEach: makes sure no child outlives the test run. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.stop('SIGKILL');
  }
}

/** Starts `pixyproxy serve` on a free loopback port and waits until it logs its address. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = new ServerProcess(cliEnv({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }));
  try {
    const listening = await server.waitForLog((line) => typeof line['address'] === 'string' && String(line['msg']).includes('listening'), 60_000);
    server.address = String(listening['address']);
    return server;
  } catch (error) {
    await server.kill();
    throw error;
  }
}

/** Starts `pixyproxy worker` (generation jobs only, no HTTP) and waits until it says it is ready. */
export async function startWorker(env: Record<string, string>): Promise<ServerProcess> {
  const worker = new ServerProcess(cliEnv({ LOG_LEVEL: 'info', ...env }), ['worker']);
  try {
    await worker.waitForLog((line) => line['msg'] === 'generation worker ready', 60_000);
    return worker;
  } catch (error) {
    await worker.kill();
    throw error;
  }
}

/** One POST /image on its own connection (no keep-alive pool), so closing the listener cannot affect it. */
export function postImageOnOwnConnection(address: string, authorization: string, prompt: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${address}/image`, {
      method: 'POST',
      agent: false,
      headers: { authorization, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ prompt }));
  });
}
