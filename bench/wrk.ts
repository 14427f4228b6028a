import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clockTicksPerSecond } from './child-server.js';
import type { LoadResult, RequestSpec } from './load-result.js';

const WRK_PATHS = ['/usr/bin/wrk', '/usr/local/bin/wrk'];

/** The wrk binary, when installed. */
export function wrkBinary(): string | undefined {
  return WRK_PATHS.find((path) => existsSync(path));
}

/**
 * Installs wrk from the Debian package when it is missing and this process may (root, apt-get
 * present). Returns the binary or undefined; never fails the bench: autocannon workers stand in.
 */
export async function ensureWrk(log: (line: string) => void): Promise<string | undefined> {
  const found = wrkBinary();
  if (found !== undefined || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return found;
  log('wrk missing: apt-get install -y -qq wrk ...');
  try {
    await promisify(execFile)('sh', ['-c', 'apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    log(`  could not install wrk: ${(error as Error).message.split('\n')[0]}`);
  }
  return wrkBinary();
}

const lua = (value: string) => JSON.stringify(value); // ASCII paths, headers and bodies: a JSON string is a Lua string

/**
 * The Lua script for one case. Requests are formatted once per thread in `init` and picked at random
 * per request (random guids, cursors, conditional headers), except when a fresh body is needed (POST),
 * which gets a per-thread counter. No `response` function: defining one makes wrk hand every response's
 * headers and body to Lua, which would slow the client down. `done` prints one JSON line with the
 * summary, the latency percentiles (µs) and wrk's own CPU time from /proc/self/stat (all threads).
 */
export function wrkScript(spec: RequestSpec): string {
  const headerTable = (headers: Record<string, string>) =>
    `{ ${Object.entries(headers).map(([name, value]) => `[${lua(name)}] = ${lua(value)}`).join(', ')} }`;
  const fresh = spec.bodyTemplate !== undefined;
  const entries = spec.requests.map((r) => `{ ${lua(r.path)}, ${headerTable({ ...spec.headers, ...r.headers })} }`);
  return `
local entries = { ${entries.join(',\n  ')} }
local method = ${lua(spec.method ?? 'GET')}
local formatted = {}
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))
function init(args)
  math.randomseed(os.time() + math.random(1, 1e6))
  thread_tag = tostring(math.random(1, 1e9))
  for i, e in ipairs(entries) do formatted[i] = wrk.format(method, e[1], e[2]) end
end
function request()
  ${fresh
    ? `counter = counter + 1
  local e = entries[math.random(#entries)]
  local body = string.gsub(${lua(spec.bodyTemplate ?? '')}, "{n}", thread_tag .. "-" .. counter)
  return wrk.format(method, e[1], e[2], body)`
    : 'return formatted[math.random(#formatted)]'}
end
function done(summary, latency, requests)
  local f = io.open("/proc/self/stat", "r")
  local stat = f:read("*a"); f:close()
  local rest = string.sub(stat, string.find(stat, "%)[^%)]*$") + 2)
  local fields = {}
  for field in string.gmatch(rest, "%S+") do fields[#fields + 1] = field end
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%f,"utime":%d,"stime":%d}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, tonumber(fields[12]), tonumber(fields[13])))
end
`;
}

interface WrkSummary {
  duration_us: number;
  requests: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  utime: number;
  stime: number;
}

/**
 * One wrk run of `seconds` against `url` with the given requests. `threads` wrk threads share the
 * connections; the client's CPU is reported in percent of one core.
 */
export async function runWrk(options: { binary: string; url: string; spec: RequestSpec; connections: number; threads: number; seconds: number }): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-wrk-'));
  const script = join(dir, 'case.lua');
  await writeFile(script, wrkScript(options.spec));
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(options.binary, [
        '-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`,
        // A create takes seconds on a busy machine; wrk's default 2 s would count it as a timeout.
        '--timeout', '60s', '-s', script, options.url,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${err || out}`))));
    });
    const line = /WRK_RESULT (\{.*\})/.exec(output)?.[1];
    if (line === undefined) throw new Error(`wrk printed no result:\n${output}`);
    const s = JSON.parse(line) as WrkSummary;
    const seconds = s.duration_us / 1e6;
    const cpuSeconds = (s.utime + s.stime) / (await clockTicksPerSecond());
    const socketErrors = s.connect + s.read + s.write + s.timeout;
    return {
      reqPerSec: s.requests / seconds,
      bytesPerSec: s.bytes / seconds,
      p50: s.p50_us / 1000,
      p99: s.p99_us / 1000,
      meanMs: s.mean_us / 1000,
      failures: s.status + socketErrors,
      statuses: { ...(s.status && { '4xx/5xx': s.status }), ...(socketErrors && { socket: socketErrors }) },
      client: `wrk -t${options.threads}`,
      clientCpuPercent: (100 * cpuSeconds) / seconds,
      clientCores: options.threads,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
