import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

/** A server under test in its own process, so the load generator never competes for its event loop. */
export interface ChildServer {
  url: string;
  pid: number;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): Promise<number>;
  /** Resident set size now (VmRSS), in MiB. */
  rssMiB(): Promise<number>;
  /** CPU time used so far by the whole process (all threads), in seconds. */
  cpuSeconds(): Promise<number>;
  /** Milliseconds from spawning the process to its first 200 on `/health` (pixyproxy only). */
  coldStartMs?: number;
  stop(): Promise<void>;
}

/** Compiles src/ into dist/ (what `npm start` does), so the server runs without a TypeScript loader. */
export async function buildServer(): Promise<void> {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json']);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function memory(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  return kib === undefined ? Number.NaN : Number(kib) / 1024;
}

/** CPU time used so far by process `pid` (all its threads), in seconds; NaN when it is gone. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / (await clockTicksPerSecond());
}

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/PID/stat (almost always 100). */
export async function clockTicksPerSecond(): Promise<number> {
  clockTicks ??= await promisify(execFile)('getconf', ['CLK_TCK']).then(({ stdout }) => Number(stdout.trim()) || 100, () => 100);
  return clockTicks;
}

function probes(pid: number) {
  return { pid, peakRssMiB: () => memory(pid, 'VmHWM'), rssMiB: () => memory(pid, 'VmRSS'), cpuSeconds: () => cpuSeconds(pid) };
}

/** Polls `url` until it answers 200; every 5 ms, so the cold-start time is that precise. */
async function waitUntilUp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`server at ${url} did not come up in ${timeoutMs} ms`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** pixyproxy's real CLI (`serve`), compiled as `npm start` runs it, its log lines going to /dev/null. */
export async function startPixyproxy(env: Record<string, string>, nodeFlags: string[] = [], distDir = 'dist'): Promise<ChildServer> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, join(distDir, 'cli', 'pixyproxy.js'), 'serve'], {
    env: {
      ...process.env,
      // The bench measures how fast creates are served, not the per-user cost limit (30 a minute by default).
      CREATE_RATE_LIMIT: '1000000',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: env['LOG_LEVEL'] ?? 'info',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${url}/health`, child, 60_000);
  return { url, ...probes(child.pid!), coldStartMs: performance.now() - spawnedAt, stop: stopper(child) };
}

export async function startBaseline(env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline server exited with code ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, ...probes(child.pid!), stop: stopper(child) };
}
