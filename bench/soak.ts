/**
 * Soak: mixed reads and writes against a freshly started server for a long while (default 5 minutes),
 * reporting the server's RSS and event-loop delay at the start and at the end, so leaks and creeping
 * latency show. Usage: npm run soak -- [--seconds 300] [--connections 16] [--write-ratio 0.05]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

interface Sample {
  rssMiB: number;
  heapUsedMiB: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    connections: { type: 'string', default: '16' },
    'write-ratio': { type: 'string', default: '0.05' },
    'sample-seconds': { type: 'string', default: '10' },
    'image-size': { type: 'string', default: '64x64' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const writeRatio = Number(values['write-ratio']);
const sampleMs = Number(values['sample-seconds']) * 1000;
const password = 'soak password 0123';
const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

const dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-soak-'));
const server = fork(new URL('./soak-server.ts', import.meta.url).pathname, [], {
  execArgv: ['--import', 'tsx'],
  env: {
    ...process.env,
    DATA_DIR: dataDir,
    PIXYPROXY_ADMIN_PASSWORD: password,
    IMAGE_SIZE: values['image-size'],
    CREATE_RATE_LIMIT: '1000000',
    IMAGE_GENERATOR: 'local',
  },
});

function nextMessage<T>(type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: { type: string }) => {
      if (message.type !== type) return;
      server.off('message', listener);
      resolve(message as T);
    };
    server.on('message', listener);
  });
}
const sample = () => {
  const reply = nextMessage<Sample>('sample');
  server.send({ type: 'sample' });
  return reply;
};

try {
  const { address } = await nextMessage<{ address: string }>('listening');
  // A catalogue to read from before the clock starts.
  const guids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const response = await fetch(`${address}/image`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: `soak seed ${i}`, tags: [`t${i % 5}`] }),
    });
    guids.push(((await response.json()) as { guid: string }).guid);
  }
  const pick = () => guids[Math.floor(Math.random() * guids.length)]!;
  await sample(); // discard set-up
  console.log(`soak: ${seconds} s, ${connections} connections, ${Math.round(writeRatio * 100)}% creates, against ${address}`);

  const samples: Sample[] = [];
  const timer = setInterval(() => void sample().then((s) => samples.push(s)), sampleMs);
  let writes = 0;
  const result = await autocannon({
    url: address,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const roll = Math.random();
          if (roll < writeRatio) {
            writes += 1;
            return { ...request, method: 'POST', path: '/image', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: `soak ${writes} ${Math.random()}` }) };
          }
          const read = roll < 0.5 ? `/image/${pick()}` : roll < 0.75 ? `/image/${pick()}/content` : `/image?limit=20&tag=t${Math.floor(Math.random() * 5)}`;
          return { ...request, method: 'GET', path: read, headers: {}, body: undefined as unknown as string };
        },
      },
    ],
  });
  clearInterval(timer);
  samples.push(await sample());

  const first = samples[0]!;
  const last = samples.at(-1)!;
  const row = (label: string, s: Sample) =>
    `| ${label} | ${s.rssMiB} | ${s.heapUsedMiB} | ${s.eventLoopDelayMs.p50} | ${s.eventLoopDelayMs.p99} | ${s.eventLoopDelayMs.max} |`;
  console.log('\n| window | RSS MiB | heap used MiB | loop delay p50 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|---|---|');
  console.log(row(`start (first ${sampleMs / 1000} s)`, first));
  console.log(row(`end (last ${sampleMs / 1000} s)`, last));
  console.log(`\nmax RSS over the run: ${Math.max(...samples.map((s) => s.rssMiB))} MiB over ${samples.length} samples`);
  console.log(
    `requests: ${result.requests.total} (${Math.round(result.requests.average)} req/s), latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
      `2xx ${result['2xx']}, non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}, creates sent ${writes}`,
  );
  if (result.errors > 0 || result.timeouts > 0 || result['5xx'] > 0) process.exitCode = 1;
} finally {
  server.send({ type: 'stop' });
  await once(server, 'exit');
  await rm(dataDir, { recursive: true, force: true });
}
