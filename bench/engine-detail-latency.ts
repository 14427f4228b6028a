/**
 * GET /image/{guid} latency on SQLite vs MySQL/MariaDB: the same app, 1,000 images, random guids.
 * The app runs in a child process so the load generator does not share its event loop.
 *
 *   npx tsx bench/engine-detail-latency.ts [--duration 10] [--connections 16] [--images 1000]
 *
 * MySQL: BENCH_MYSQL_URL=mysql://user:pass@host:port/ (a database is created and dropped on it), or
 * else a throwaway server started from the local mariadbd/mysqld, as the tests do.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { openContext } from '../src/cli/compose.js';
import { loadConfig } from '../src/core/config.js';
import { SqlImageRepository } from '../src/data/image-repository.js';
import { LocalImageGenerator } from '../src/service/generation/index.js';
import { silentLogger } from '../src/core/service-logger.js';
import { buildApp } from '../src/web/app.js';
import { makeNewImage } from '../test/support/factories.js';
import { createTestDatabase, MysqlTestServer } from '../test/support/mysql-server.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    images: { type: 'string', default: '1000' },
    serve: { type: 'string' },
  },
});
const DURATION_S = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const IMAGES = Number(values.images);

interface Result {
  engine: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
}

/** Child process: the app on databaseUrl with IMAGES rows; prints {address, guids} and serves until killed. */
async function serveApp(databaseUrl: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-bench-'));
  const config = loadConfig({ DATA_DIR: dir, DATABASE_URL: databaseUrl });
  const context = await openContext(config, silentLogger, {
    generator: new LocalImageGenerator({ width: 64, height: 64 }),
  });
  const app = await buildApp(context.services, { createRateLimit: config.createRateLimit });
  const repo = new SqlImageRepository(context.db);
  const guids: string[] = [];
  for (let i = 0; i < IMAGES; i += 1) guids.push((await repo.insert(makeNewImage({ tags: ['bench'] }))).guid);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ address, guids })}\n`);
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => context.close())
      .then(() => rm(dir, { recursive: true, force: true }))
      .then(() => process.exit(0));
  });
}

async function measure(engine: string, databaseUrl: string): Promise<Result> {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--images', String(IMAGES), '--serve', databaseUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const { address, guids } = JSON.parse(line) as { address: string; guids: string[] };
    const run = (duration: number) =>
      autocannon({
        url: address,
        connections: CONNECTIONS,
        duration,
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/image/${guids[Math.floor(Math.random() * guids.length)]}` }) }],
      });
    await run(2); // warm-up: JIT, statement caches, pool connections
    const result = await run(DURATION_S);
    return {
      engine,
      requests: result.requests.total,
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      non2xx: result.non2xx,
    };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const sqliteDir = await mkdtemp(join(tmpdir(), 'pixyproxy-bench-sqlite-'));
  try {
    results.push(await measure('sqlite', `sqlite:${join(sqliteDir, 'bench.db')}`));
  } finally {
    await rm(sqliteDir, { recursive: true, force: true });
  }

  const external = process.env['BENCH_MYSQL_URL'];
  const server = external ? undefined : await MysqlTestServer.create();
  try {
    const database = await createTestDatabase(external ?? server!.url, 'pixyproxy_bench');
    try {
      results.push(await measure(`mysql (${server ? server.version.split(' ')[0] : 'BENCH_MYSQL_URL'})`, database.url));
    } finally {
      await database.drop();
    }
  } finally {
    await server?.destroy();
  }

  console.log(`GET /image/{guid}, ${IMAGES} images, ${CONNECTIONS} connections, ${DURATION_S} s after a 2 s warm-up`);
  console.table(results);
}

if (values.serve !== undefined) {
  await serveApp(values.serve);
} else {
  await main();
}
