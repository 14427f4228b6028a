import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { RedisConfig } from '../../../src/core/config.js';
import { ServiceUnavailableError } from '../../../src/core/errors.js';
import { openRedis } from '../../../src/data/redis-connection.js';
import { BullMqJobQueue, type BullMqJobQueueOptions } from '../../../src/service/generation/bullmq-job-queue.js';
import type { GenerationJobData, JobProcessor } from '../../../src/service/generation/generation-jobs.js';
import { describeRedis, testRedisConfig } from '../../support/redis.js';

let config: RedisConfig;
const queues: BullMqJobQueue[] = [];

beforeEach(() => {
  config = testRedisConfig();
});
afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close();
});

async function openQueue(options: Partial<BullMqJobQueueOptions> = {}): Promise<BullMqJobQueue> {
  const queue = await BullMqJobQueue.open({
    connect: (kind) => openRedis(config, kind),
    keyPrefix: config.keyPrefix,
    concurrency: 2,
    queueBound: 100,
    lockMs: 5000,
    ...options,
  });
  queues.push(queue);
  return queue;
}

function makeJob(overrides: Partial<GenerationJobData> = {}): GenerationJobData {
  return { id: randomUUID(), author: 'alice', prompt: 'a red fox', tags: [], options: {}, ...overrides };
}

const succeed: JobProcessor = async (data) => ({ outcome: 'succeeded', imageGuid: data.id });

describeRedis('BullMqJobQueue', () => {
  it('runs a job and reports it succeeded with its image guid and timestamps', async () => {
    const queue = await openQueue({ processor: succeed });
    const data = makeJob();
    const accepted = await queue.enqueue(data);
    expect(accepted).toMatchObject({ id: data.id, author: 'alice' });
    expect(['queued', 'running', 'succeeded']).toContain(accepted.status);
    const done = (await queue.waitUntilFinished(data.id))!;
    expect(done).toMatchObject({ id: data.id, status: 'succeeded', imageGuid: data.id, failure: undefined });
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!));
    expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
  });

  it('keeps a failure as the job result, with the error the caller would have got', async () => {
    const failure = { name: 'PromptRejectedError', message: 'The provider refused the prompt' };
    const queue = await openQueue({ processor: async () => ({ outcome: 'failed', failure }) });
    const data = makeJob();
    await queue.enqueue(data);
    expect(await queue.waitUntilFinished(data.id)).toMatchObject({ status: 'failed', failure, imageGuid: undefined });
  });

  it('makes one job of the same id enqueued twice, on two instances', async () => {
    let runs = 0;
    const worker = await openQueue({ processor: async (data) => ((runs += 1), succeed(data)) });
    const enqueueOnly = await openQueue();
    const data = makeJob();
    await Promise.all([worker.enqueue(data), enqueueOnly.enqueue(data)]);
    await enqueueOnly.waitUntilFinished(data.id);
    await worker.enqueue(data);
    expect(runs).toBe(1);
  });

  it('never runs more jobs at once than the global concurrency, over all workers', async () => {
    let running = 0;
    let peak = 0;
    const slow: JobProcessor = async (data) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running -= 1;
      return succeed(data);
    };
    // Each worker would run 3 at once by itself; together they may run only 2.
    const a = await openQueue({ processor: slow, concurrency: 3 });
    const b = await openQueue({ processor: slow, concurrency: 3 });
    await (await openQueue({ concurrency: 2 })).find('none'); // the global limit: 2
    const jobs = Array.from({ length: 8 }, () => makeJob());
    await Promise.all(jobs.map((job, i) => (i % 2 ? a : b).enqueue(job)));
    await Promise.all(jobs.map((job) => a.waitUntilFinished(job.id)));
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThan(0);
  });

  it('refuses a job past GENERATION_QUEUE waiting ones with 503 and Retry-After', async () => {
    const queue = await openQueue({ queueBound: 2 });
    await queue.enqueue(makeJob());
    await queue.enqueue(makeJob());
    const refused = await queue.enqueue(makeJob()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceUnavailableError);
    expect((refused as ServiceUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('accepts exactly GENERATION_QUEUE of many concurrent enqueues from two instances, the rest 503 with Retry-After', async () => {
    // Enqueue-only instances: no worker takes a job out of the waiting ones meanwhile.
    const a = await openQueue({ queueBound: 3 });
    const b = await openQueue({ queueBound: 3 });
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).enqueue(makeJob())));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    for (const outcome of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(outcome.reason).toBeInstanceOf(ServiceUnavailableError);
      expect((outcome.reason as ServiceUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
    }
    // The place of a job that starts running is free again: with a worker, the bound counts only waiting jobs.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    try {
      const worker = await openQueue({ queueBound: 3, processor: async (data) => (await gate, succeed(data)) });
      await vi.waitFor(async () => expect((await worker.enqueue(makeJob())).status).toBe('queued'), { timeout: 10_000, interval: 100 });
    } finally {
      release();
    }
  });

  it('answers undefined for a job that does not exist', async () => {
    const queue = await openQueue();
    expect(await queue.find(randomUUID())).toBeUndefined();
  });
});
