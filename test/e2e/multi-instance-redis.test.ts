import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDetail } from '../../src/core/models/image.js';
import type { JobBody } from '../../src/core/models/job.js';
import { SqlApiKeyRepository } from '../../src/data/api-key-repository.js';
import { SqlUsageRepository } from '../../src/data/usage-repository.js';
import { SqlUserRepository } from '../../src/data/user-repository.js';
import { migrate } from '../../src/data/migrator.js';
import { AccessService, ApiKeyService, AuthFailureLimiter, CredentialCache } from '../../src/service/access/index.js';
import { startServer, startWorker, type ServerProcess } from '../support/cli-process.js';
import { MYSQL, type EngineDatabase } from '../support/engines.js';
import { FakeOpenAIServer } from '../support/fake-openai-server.js';
import { objectStoreServer, S3_STORE } from '../support/image-stores.js';
import { createTestBucket, type TestBucket } from '../support/object-store.js';
import { TEST_OPENAI_KEY } from '../support/openai-test-app.js';
import { findRedisServerBinary, RedisTestServer } from '../support/redis-server.js';
import { basicHeader, TEST_SCRYPT } from '../support/test-app.js';

/**
 * Two pixyproxy servers (A and B), each running generation jobs as servers do by default, and one
 * `pixyproxy worker` process, on one MariaDB, one S3 bucket (the run's Swift S3 server) and one
 * Redis, with the OpenAI generator against the loopback fake: the deployment docs/DEPLOYMENT.md
 * describes for several instances.
 */

const PASSWORD = 'multi instance password';
const GENERATION_MS = 300;
const available = MYSQL.available && S3_STORE.available && findRedisServerBinary() !== undefined;

interface Sent {
  status: number;
  headers: Headers;
  body: string;
}

async function send(address: string, path: string, init: RequestInit = {}): Promise<Sent> {
  const response = await fetch(`${address}${path}`, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

function post(address: string, username: string, prompt: string, headers: Record<string, string> = {}): Promise<Sent> {
  return send(address, '/image', {
    method: 'POST',
    headers: { authorization: basicHeader(username, PASSWORD), 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ prompt }),
  });
}

describe.skipIf(!available)('two instances and a worker sharing one Redis, one MariaDB and one bucket', () => {
  let dir: string;
  let bucket: TestBucket;
  let redis: RedisTestServer;
  let database: EngineDatabase;
  let fake: FakeOpenAIServer;
  let users: AccessService;
  let a: ServerProcess;
  let b: ServerProcess;
  let worker: ServerProcess;
  const processes: ServerProcess[] = [];

  function env(name: string): Record<string, string> {
    return {
      DATA_DIR: join(dir, name),
      ...bucket.env,
      DATABASE_URL: database.databaseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'e2e',
      // Redis down fails a command at once (no offline queue); this bounds a command to a Redis that
      // is up, and on a loaded test machine a tighter one turns a slow answer into a false outage.
      REDIS_COMMAND_TIMEOUT_MS: '2000',
      IMAGE_GENERATOR: 'openai',
      OPENAI_API_KEY: TEST_OPENAI_KEY,
      OPENAI_BASE_URL: fake.url,
      OPENAI_TIMEOUT_MS: '20000',
      OPENAI_MAX_RETRIES: '0',
      IMAGE_SIZE: '1024x1024',
      CREATE_RATE_LIMIT: '5',
      GENERATION_CONCURRENCY: '2',
      GENERATION_QUEUE: '1000',
      GENERATION_LOCK_MS: '2000',
      AUTH_FAILURE_LIMIT: '1000',
      PIXYPROXY_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'info',
    };
  }

  async function start(name: string): Promise<ServerProcess> {
    const server = await startServer(env(name));
    processes.push(server);
    return server;
  }

  async function startTheWorker(): Promise<ServerProcess> {
    const started = await startWorker(env('w'));
    processes.push(started);
    return started;
  }

  async function addUsers(prefix: string, count: number): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    for (const name of names) await users.addUser(name, PASSWORD);
    return names;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixyproxy-multi-'));
    for (const name of ['a', 'b', 'w']) await mkdir(join(dir, name));
    bucket = await createTestBucket(objectStoreServer);
    redis = await RedisTestServer.create();
    database = await MYSQL.open();
    await migrate(database.db);
    users = new AccessService({
      users: new SqlUserRepository(database.db),
      apiKeys: new ApiKeyService(new SqlApiKeyRepository(database.db)),
      credentialCache: new CredentialCache(0),
      failureLimiter: new AuthFailureLimiter({ limit: 1000, windowMs: 60_000 }),
      scrypt: TEST_SCRYPT,
    });
    fake = await FakeOpenAIServer.start({ apiKey: TEST_OPENAI_KEY, defaultReply: { kind: 'image', delayMs: GENERATION_MS } });
    // A first: it creates the admin; B and the worker then start side by side.
    a = await start('a');
    [b, worker] = await Promise.all([start('b'), startTheWorker()]);
  }, 180_000);

  afterAll(async () => {
    for (const process of processes) await process.kill();
    await fake?.close();
    await database?.close();
    await redis?.destroy();
    await bucket?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets exactly CREATE_RATE_LIMIT=5 creates of one user through over both instances, the rest 429', async () => {
    const [user] = await addUsers('limited', 1);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 ? a.address : b.address, user!, `limited ${i}`)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    for (const refused of responses.filter((r) => r.status === 429)) expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 60_000);

  it('never has more than GENERATION_CONCURRENCY=2 calls at the provider for 12 creates over both instances', async () => {
    const names = await addUsers('burst', 12);
    const before = fake.requests.length;
    fake.maxInFlight = 0;
    const responses = await Promise.all(names.map((name, i) => post(i % 2 ? a.address : b.address, name, `burst ${i}`)));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(fake.requests.length - before).toBe(12);
    expect(fake.maxInFlight).toBeLessThanOrEqual(2);
    console.log(`global concurrency: 12 creates over 2 servers and 1 worker (3 processes running jobs), provider saw at most ${fake.maxInFlight} at once`);
  }, 120_000);

  it('replays the same Idempotency-Key sent to A then B: one image, one provider call', async () => {
    const [user] = await addUsers('idem', 1);
    const before = fake.requests.length;
    const first = await post(a.address, user!, 'idempotent fox', { 'idempotency-key': 'order-42' });
    const second = await post(b.address, user!, 'idempotent fox', { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const guid = (JSON.parse(first.body) as ImageDetail).guid;
    expect((JSON.parse(second.body) as ImageDetail).guid).toBe(guid);
    expect(fake.requests.length - before).toBe(1);
    expect(await database.db.all('SELECT guid FROM image WHERE guid = :guid', { guid })).toHaveLength(1);
  }, 60_000);

  // Jobs run in all three processes; the one that logs the job's start is the one killed, and started
  // again (a server on a new port), so the next test has the same three.
  it('finishes a job elsewhere after the process running it is SIGKILLed: one image, one ledger row, no hold left', async () => {
    const [user] = await addUsers('killed', 1);
    // A quota, so the create holds its worst-case cost: every run of the job must settle that one hold.
    await new SqlUsageRepository(database.db).setQuota(user!, { imagesPerDay: 100, usdPerMonthNano: null }, new Date().toISOString());
    const auth = { authorization: basicHeader(user!, PASSWORD) };
    fake.setDefaultReply({ kind: 'image', delayMs: 5000 });
    let killed: 'a' | 'b' | 'worker' | undefined;
    let restarted: Promise<ServerProcess> | undefined;
    try {
      const accepted = await post(a.address, user!, 'a job whose worker dies', { prefer: 'respond-async' });
      expect(accepted.status).toBe(202);
      const id = (JSON.parse(accepted.body) as JobBody).id;
      const isStart = (line: Record<string, unknown>) => line['msg'] === 'generation job started' && line['job_id'] === id;
      const running = await Promise.any(
        ([['a', a], ['b', b], ['worker', worker]] as const).map(([name, process]) => process.waitForLog(isStart, 30_000).then(() => ({ name, process }))),
      );
      killed = running.name;
      running.process.child.kill('SIGKILL');
      await running.process.exited;
      fake.setDefaultReply({ kind: 'image', delayMs: GENERATION_MS });
      // Started again at once, side by side with the recovery (the new process may be the one that
      // picks the job up: still one image).
      restarted = killed === 'worker' ? startTheWorker() : start(killed);

      // Asked on a server that is still up.
      const reader = killed === 'a' ? b : a;
      const started = Date.now();
      let job: JobBody | undefined;
      while (Date.now() - started < 60_000) {
        job = JSON.parse((await send(reader.address, `/jobs/${id}`, { headers: auth })).body) as JobBody;
        if (job.status === 'succeeded' || job.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(job).toMatchObject({ status: 'succeeded', image: { guid: id } });
      expect(await database.db.all('SELECT guid FROM image WHERE guid = :guid', { guid: id })).toHaveLength(1);
      expect((await send(reader.address, `/image/${id}/content`)).status).toBe(200);
      // The retry settled the hold the create was accepted with: one ledger row, no reservation left.
      expect(await database.db.all('SELECT guid FROM usage_record WHERE guid = :guid', { guid: id })).toHaveLength(1);
      expect(await database.db.all('SELECT id FROM quota_reservation WHERE username = :username', { username: user! })).toEqual([]);
      console.log(`SIGKILL (${killed}, the process running the job): job recovered elsewhere ${Date.now() - started} ms after the kill (GENERATION_LOCK_MS=2000)`);
    } finally {
      fake.setDefaultReply({ kind: 'image', delayMs: GENERATION_MS });
      const replacement = await restarted;
      if (killed === 'a') a = replacement!;
      if (killed === 'b') b = replacement!;
      if (killed === 'worker') worker = replacement!;
    }
  }, 120_000);

  it('keeps reads at 200 and answers writes 503 with Retry-After while Redis is down 10 s, then recovers', async () => {
    const writers = await addUsers('load', 60);
    const seed = await post(a.address, writers[0]!, 'outage seed');
    expect(seed.status).toBe(201);
    const seedGuid = (JSON.parse(seed.body) as ImageDetail).guid;

    interface Outcome {
      kind: 'read' | 'write';
      startedAt: number;
      endedAt: number;
      status: number;
      retryAfter: string | null;
      guid?: string;
      detail?: string;
    }
    const outcomes: Outcome[] = [];
    let loading = true;
    let writeNo = 0;
    const readLoop = async (address: string) => {
      while (loading) {
        const startedAt = Date.now();
        const path = writeNo % 2 ? `/image/${seedGuid}` : '/image?limit=5';
        const response = await send(address, path).catch(() => ({ status: 0, headers: new Headers(), body: '' }));
        outcomes.push({ kind: 'read', startedAt, endedAt: Date.now(), status: response.status, retryAfter: null });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    // Writes start on a clock, not one after another: one held up by the outage does not stop the next.
    const writes: Promise<void>[] = [];
    const writeLoop = async () => {
      while (loading) {
        const n = writeNo++;
        const address = n % 2 ? a.address : b.address;
        writes.push(
          (async () => {
            const startedAt = Date.now();
            const response = await post(address, writers[n % writers.length]!, `outage write ${n}`).catch(() => ({ status: 0, headers: new Headers(), body: '' }));
            const outcome: Outcome = { kind: 'write', startedAt, endedAt: Date.now(), status: response.status, retryAfter: response.headers.get('retry-after') };
            if (response.status === 201) outcome.guid = (JSON.parse(response.body) as ImageDetail).guid;
            else outcome.detail = response.body.slice(0, 200);
            outcomes.push(outcome);
          })(),
        );
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    };
    const loops = [readLoop(a.address), readLoop(b.address), writeLoop()];
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const stoppedAt = Date.now();
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await redis.start();
    const backAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 6000));
    loading = false;
    await Promise.all(loops);
    await Promise.all(writes);

    const reads = outcomes.filter((o) => o.kind === 'read');
    const allWrites = outcomes.filter((o) => o.kind === 'write');
    const during = allWrites.filter((o) => o.startedAt > stoppedAt + 100 && o.startedAt < backAt);
    // Recovery: from Redis answering again to the first write begun after that which succeeded.
    const firstOkAfter = allWrites.filter((o) => o.status === 201 && o.startedAt >= backAt).sort((x, y) => x.endedAt - y.endedAt)[0];
    const recoveryMs = firstOkAfter ? firstOkAfter.endedAt - backAt : Number.NaN;
    const refusedAfter = allWrites.filter((o) => o.status !== 201 && o.startedAt >= backAt);
    const lastRefusal = refusedAfter.length ? Math.max(...refusedAfter.map((o) => o.startedAt - backAt)) : 0;
    const statusCounts = (list: Outcome[]) => list.reduce<Record<number, number>>((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {});
    console.log(
      `Redis outage (10 s): reads ${JSON.stringify(statusCounts(reads))}; writes ${JSON.stringify(statusCounts(allWrites))}; ` +
        `writes started during the outage ${JSON.stringify(statusCounts(during))} ` +
        `(503 answered in ${during.length ? Math.max(...during.map((o) => o.endedAt - o.startedAt)) : 0} ms at most); ` +
        `first write begun after Redis answered again succeeded ${recoveryMs} ms after it; last refused write began ${lastRefusal} ms after it`,
    );

    for (const o of allWrites.filter((w) => w.status !== 201 && w.status !== 503)) console.log('unexpected write answer', o.status, o.detail);
    for (const o of refusedAfter) console.log(`refused ${o.startedAt - backAt} ms after Redis returned (${o.endedAt - o.startedAt} ms): ${o.status} ${o.detail}`);
    expect(reads.every((o) => o.status === 200)).toBe(true);
    expect(outcomes.some((o) => o.status >= 500 && o.status !== 503)).toBe(false);
    expect(during.length).toBeGreaterThan(0);
    for (const refused of during) {
      expect(refused.status).toBe(503);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    }
    // Recovered within 2 s: no write begun later than that is refused, and one begun after Redis
    // returned has succeeded (its time includes one generation).
    expect(lastRefusal).toBeLessThanOrEqual(2000);
    expect(allWrites.filter((o) => o.startedAt > backAt + 2000).every((o) => o.status === 201)).toBe(true);
    expect(recoveryMs).toBeLessThan(6000);
    // Nothing acknowledged is lost: every 201 has its row and its bytes.
    for (const acknowledged of allWrites.filter((o) => o.status === 201)) {
      expect((await send(a.address, `/image/${acknowledged.guid}/content`)).status, acknowledged.guid).toBe(200);
    }
  }, 180_000);
});
