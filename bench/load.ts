import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  /** Paths visited round-robin, e.g. many guids so no single row stays hot. */
  paths: readonly string[];
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fresh body per request (POST). */
  body?: () => string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

export interface LoadResult {
  reqPerSec: number;
  bytesPerSec: number;
  p50: number;
  p99: number;
  meanMs: number;
  /** Responses that were not 2xx/304, plus socket errors and timeouts. */
  failures: number;
  statuses: Record<string, number>;
}

function fire(options: LoadOptions, seconds: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    requests: [
      {
        setupRequest(request) {
          const path = options.paths[next++ % options.paths.length]!;
          return { ...request, path, ...(options.body && { body: options.body() }) };
        },
      },
    ],
  });
}

/** A warm-up run (discarded), then the measured run, both with a fixed number of connections. */
export async function measure(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await fire(options, options.warmupSeconds);
  const result = await fire(options, options.seconds);
  const statuses: Record<string, number> = {};
  for (const key of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) if (result[key] > 0) statuses[key] = result[key];
  const unexpected = result['4xx'] + result['5xx'] + result['1xx'];
  return {
    reqPerSec: result.requests.average,
    bytesPerSec: result.throughput.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    meanMs: result.latency.average,
    failures: unexpected + result.errors + result.timeouts,
    statuses,
  };
}
