import { spawn } from 'node:child_process';
import type { LoadResult, RequestSpec } from './load-result.js';
import { runWrk } from './wrk.js';

export type { LoadResult, RequestEntry, RequestSpec } from './load-result.js';

/** Which load generator drives the cases: wrk (compiled, preferred) or autocannon workers in child processes. */
export type LoadClient = { kind: 'wrk'; binary: string; threads: number } | { kind: 'autocannon'; workers: number };

export interface LoadOptions {
  url: string;
  spec: RequestSpec;
  client: LoadClient;
  connections: number;
}

/** The autocannon fallback: each worker is a separate Node process with its share of the connections. */
async function runAutocannonWorkers(options: LoadOptions & { client: { kind: 'autocannon'; workers: number } }, seconds: number): Promise<LoadResult> {
  const { workers } = options.client;
  const results = await Promise.all(
    Array.from({ length: workers }, (_, index) => {
      const connections = Math.max(1, Math.floor(options.connections / workers) + (index < options.connections % workers ? 1 : 0));
      return new Promise<WorkerResult>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'bench/autocannon-worker.ts'], {
          env: { ...process.env, BENCH_WORKER: JSON.stringify({ url: options.url, spec: options.spec, connections, seconds }) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerResult) : reject(new Error(`autocannon worker exited with ${code}`))));
      });
    }),
  );
  const sum = (pick: (r: WorkerResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [key, n] of Object.entries(r.statuses)) statuses[key] = (statuses[key] ?? 0) + n;
  const requests = sum((r) => r.reqPerSec);
  return {
    reqPerSec: requests,
    bytesPerSec: sum((r) => r.bytesPerSec),
    // Percentiles cannot be merged exactly from summaries: the worst worker's is reported.
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    meanMs: sum((r) => r.meanMs * r.reqPerSec) / Math.max(requests, 1e-9),
    failures: sum((r) => r.failures),
    statuses,
    client: `autocannon x${workers} processes`,
    clientCpuPercent: sum((r) => r.cpuPercent),
    clientCores: workers,
  };
}

export type WorkerResult = Omit<LoadResult, 'client' | 'clientCpuPercent' | 'clientCores'> & { cpuPercent: number };

/** One run of `seconds` (no warm-up). */
export function runLoad(options: LoadOptions, seconds: number): Promise<LoadResult> {
  const { client } = options;
  if (client.kind === 'wrk') return runWrk({ binary: client.binary, url: options.url, spec: options.spec, connections: options.connections, threads: client.threads, seconds });
  return runAutocannonWorkers({ ...options, client }, seconds);
}
