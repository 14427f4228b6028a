/** The shapes both load generators (wrk and the autocannon workers) take and give. */

/** One request a case may send: a path and its own headers (e.g. a matching If-None-Match). */
export interface RequestEntry {
  path: string;
  headers?: Record<string, string>;
}

/** What a case sends: each request picks one entry at random (random guids, cursors, conditions). */
export interface RequestSpec {
  requests: readonly RequestEntry[];
  method?: 'GET' | 'POST';
  /** Headers on every request. */
  headers?: Record<string, string>;
  /** A fresh body per request: `{n}` is replaced by a unique token (POST). */
  bodyTemplate?: string;
}

export interface LoadResult {
  reqPerSec: number;
  bytesPerSec: number;
  /** Latency percentiles and mean, in milliseconds. */
  p50: number;
  p99: number;
  meanMs: number;
  /** Responses with status >= 400 (unexpected in every case), plus socket errors and timeouts. */
  failures: number;
  statuses: Record<string, number>;
  /** The load generator, e.g. `wrk -t1`. */
  client: string;
  /** CPU time the load generator used, in percent of one core (100 = one core busy all the time). */
  clientCpuPercent: number;
  /** How many cores the client can use (wrk threads or autocannon workers): its CPU ceiling / 100. */
  clientCores: number;
}
