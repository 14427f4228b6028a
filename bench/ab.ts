/**
 * `npm run bench:ab -- --a DIR --b DIR [--case detail|list|not-modified|content-64k|content-1m] [--rounds 3]`:
 * two compiled builds (e.g. the previous commit's dist and this one's) side by side on the same
 * 1,000-row SQLite catalogue, measured alternately (a, b, a, b, ...) with the same client, so a change
 * is judged against the code before it under the same machine load. Prints each round and the medians.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { prepareData, type BenchData } from './bench-data.js';
import { startPixyproxy } from './child-server.js';
import { runLoad, type RequestSpec } from './load.js';
import { ensureWrk } from './wrk.js';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    case: { type: 'string', default: 'detail' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
  },
});

const log = (line: string) => process.stderr.write(`${line}\n`);

function spec(data: BenchData, name: string): RequestSpec {
  const content = data.content!;
  const get = (paths: string[], headers?: Record<string, string>) => ({ requests: paths.map((path) => ({ path, ...(headers && { headers }) })) });
  switch (name) {
    case 'detail': return get(data.guids.map((guid) => `/image/${guid}`));
    case 'list': return get(['/image?limit=50']);
    case 'not-modified': return get([`/image/${content.small.guid}/content`], { 'if-none-match': content.small.etag });
    case 'content-64k': return get([`/image/${content.small.guid}/content`]);
    case 'content-1m': return get([`/image/${content.large.guid}/content`]);
    default: throw new Error(`unknown case ${name}`);
  }
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

async function main() {
  if (args.a === undefined || args.b === undefined) throw new Error('--a DIR and --b DIR (compiled trees) are required');
  const binary = await ensureWrk(log);
  const client = binary ? { kind: 'wrk' as const, binary, threads: 1 } : { kind: 'autocannon' as const, workers: 2 };
  const dir = join(tmpdir(), 'pixyproxy-bench', 'ab');
  const file = join(dir, 'pixyproxy.db');
  const data = await prepareData({ dir, database: { kind: 'sqlite', file }, databaseUrl: `sqlite:${file}`, rows: 1000, reuse: false, log });
  const servers = { a: await startPixyproxy(data.env, [], args.a), b: await startPixyproxy(data.env, [], args.b) };
  const results: Record<'a' | 'b', number[]> = { a: [], b: [] };
  // CPU per request barely depends on how busy the rest of the machine is; the rate does.
  const cpuPerRequest: Record<'a' | 'b', number[]> = { a: [], b: [] };
  try {
    const requests = spec(data, args.case!);
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const side of ['a', 'b'] as const) {
        const options = { url: servers[side].url, spec: requests, client, connections: Number(args.connections) };
        await runLoad(options, 1);
        const cpuBefore = await servers[side].cpuSeconds();
        const result = await runLoad(options, Number(args.seconds));
        const cpuUs = (1e6 * ((await servers[side].cpuSeconds()) - cpuBefore)) / (result.reqPerSec * Number(args.seconds));
        cpuPerRequest[side].push(cpuUs);
        const value = args.case!.startsWith('content-') ? result.bytesPerSec / 2 ** 20 : result.reqPerSec;
        results[side].push(value);
        log(`round ${round + 1} ${side}: ${value.toFixed(args.case!.startsWith('content-') ? 1 : 0)}${args.case!.startsWith('content-') ? ' MiB/s' : ' req/s'}, p50 ${result.p50.toFixed(2)} ms, server CPU ${cpuUs.toFixed(0)} µs/request, client CPU ${result.clientCpuPercent.toFixed(0)}%${result.failures ? `, ${result.failures} failures` : ''}`);
      }
    }
  } finally {
    await Promise.all([servers.a.stop(), servers.b.stop()]);
  }
  const [a, b] = [median(results.a), median(results.b)];
  const [cpuA, cpuB] = [median(cpuPerRequest.a), median(cpuPerRequest.b)];
  process.stdout.write(
    `${args.case}: a ${a.toFixed(1)}, b ${b.toFixed(1)} (median of ${args.rounds}); b/a = ${(b / a).toFixed(2)}; ` +
      `server CPU per request a ${cpuA.toFixed(0)} µs, b ${cpuB.toFixed(0)} µs (b/a ${(cpuB / cpuA).toFixed(2)})\n`,
  );
}

await main();
