/**
 * One autocannon load generator in its own process, for machines without wrk: bench/load.ts starts
 * several, so the client is not limited to one Node event loop. Reads its job from BENCH_WORKER
 * (JSON: url, spec, connections, seconds) and prints one JSON WorkerResult, with its own CPU use.
 */
import autocannon from 'autocannon';
import type { RequestSpec, WorkerResult } from './load.js';

const job = JSON.parse(process.env['BENCH_WORKER']!) as { url: string; spec: RequestSpec; connections: number; seconds: number };
const { spec } = job;
let counter = 0;
const token = `${process.pid}`;

const startCpu = process.cpuUsage();
const startedAt = process.hrtime.bigint();
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  method: spec.method ?? 'GET',
  headers: spec.headers ?? {},
  requests: [
    {
      setupRequest(request) {
        const entry = spec.requests[Math.floor(Math.random() * spec.requests.length)]!;
        const body = spec.bodyTemplate?.replace('{n}', `${token}-${counter++}`);
        return { ...request, path: entry.path, headers: { ...request.headers, ...entry.headers }, ...(body !== undefined && { body }) };
      },
    },
  ],
});
const cpu = process.cpuUsage(startCpu);
const elapsedUs = Number(process.hrtime.bigint() - startedAt) / 1000;
const statuses: Record<string, number> = {};
for (const key of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) if (result[key] > 0) statuses[key] = result[key];
const output: WorkerResult = {
  reqPerSec: result.requests.average,
  bytesPerSec: result.throughput.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  meanMs: result.latency.average,
  failures: result['4xx'] + result['5xx'] + result.errors + result.timeouts,
  statuses,
  cpuPercent: (100 * (cpu.user + cpu.system)) / elapsedUs,
};
process.stdout.write(JSON.stringify(output));
