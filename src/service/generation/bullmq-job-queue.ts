import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ServiceUnavailableError } from '../../core/errors.js';
import { onSharedState } from '../../data/redis-connection.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';
import {
  JOB_RETENTION_MS,
  type GenerationJob,
  type GenerationJobData,
  type GenerationJobQueue,
  type JobProcessor,
  type JobResult,
} from './generation-jobs.js';

/** The BullMQ queue's name; its keys are `<REDIS_KEY_PREFIX>:generation:*`. */
export const GENERATION_QUEUE_NAME = 'generation';

export interface BullMqJobQueueOptions {
  /** Opens a new Redis connection of the given kind (see data/redis-connection.ts). */
  connect: (kind: 'request' | 'queue') => Redis;
  keyPrefix: string;
  /** GENERATION_CONCURRENCY: jobs running at once over all workers of all instances. */
  concurrency: number;
  /**
   * GENERATION_QUEUE: jobs allowed to wait over all instances (queued, not yet running: the running
   * ones, at most `concurrency`, come on top); past it enqueue answers 503. Atomic across instances.
   */
  queueBound: number;
  /** GENERATION_LOCK_MS: how soon a dead worker's job goes to another (BullMQ `lockDuration`). */
  lockMs: number;
  /** The processor, when this process runs a worker (servers by default, `pixyproxy worker`); absent: enqueue only. */
  processor?: JobProcessor;
  log?: ServiceLogger;
}

const RETENTION_SECONDS = Math.ceil(JOB_RETENTION_MS / 1000);
/** Longest pause a provider's Retry-After may put on the whole queue. */
const MAX_SLOWDOWN_MS = 60_000;
/** How often a waiting caller re-reads its job, in case a completion event was missed (Redis reconnect). */
const WAIT_POLL_MS = 500;
/** How long an admission holds its place in the bound if its process dies before adding the job. */
const ADMISSION_TTL_MS = 30_000;

/**
 * GENERATION_QUEUE as one atomic step in Redis. BullMQ has no bound of its own, and counting the
 * waiting jobs then adding one (two round trips) lets two instances both see room for the last
 * place and both add. A counter incremented on enqueue and decremented when a job starts would be
 * atomic too, but drifts for good whenever a process dies between the two (and BullMQ moves jobs
 * out of `wait` in its own scripts, where no decrement can be hooked in). So this script counts what
 * BullMQ itself holds, at the moment it runs (the `wait` and `paused` lists, the `prioritized` and
 * `delayed` sets), plus the admissions granted but not yet added, and grants one more only under
 * the bound. An admission is a member of a sorted set scored by its expiry; it stops counting once
 * its job's hash exists (the job is then in a list counted here, or already running), when the
 * enqueue removes it, or, if its process died first, after ADMISSION_TTL_MS.
 *
 * KEYS: wait, paused, prioritized, delayed, admissions. ARGV: bound, job id, admission TTL (ms),
 * the prefix of a job's hash key. Returns { granted (1 or 0), jobs waiting or being admitted }.
 */
const ADMIT_JOB_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local waiting = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
  if redis.call('EXISTS', ARGV[4] .. id) == 0 then waiting = waiting + 1 end
end
if waiting >= tonumber(ARGV[1]) then return { 0, waiting } end
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[3]), ARGV[2])
return { 1, waiting + 1 }
`;

/** The admission script as ioredis `defineCommand` adds it to a connection. */
interface AdmittingRedis extends Redis {
  pixyproxyAdmitJob(...args: [string, string, string, string, string, number, string, number, string]): Promise<[number, number]>;
}

/**
 * Generation jobs on a BullMQ queue in Redis, shared by every instance:
 *
 * - GENERATION_CONCURRENCY is the queue's global concurrency (`setGlobalConcurrency`), so all
 *   workers together never run more jobs at once, however many instances there are.
 * - The job id is the caller's (`jobId`), and it is also the image's guid: a job recovered after its
 *   worker died (BullMQ's stalled-job check, after GENERATION_LOCK_MS) runs again under the same
 *   guid, and the processor's idempotent insert makes that one image, never two.
 * - Provider retries happen inside the job (the generator's own); a job that still ends with the
 *   provider busy (429/503, a ServiceUnavailableError with Retry-After) pauses the whole queue for
 *   that long (`queue.rateLimit`), so the provider is not hammered by the next jobs.
 * - Finished jobs are kept 25 hours (`removeOnComplete`/`removeOnFail` ages).
 *
 * The request path (enqueue, find) uses a fail-fast connection: Redis down is a 503 within
 * REDIS_COMMAND_TIMEOUT_MS. The worker's connections wait for Redis to come back instead.
 */
export class BullMqJobQueue implements GenerationJobQueue {
  readonly #queue: Queue;
  readonly #requests: AdmittingRedis;
  readonly #admissionsKey: string;
  readonly #options: BullMqJobQueueOptions;
  readonly #log: ServiceLogger;
  #worker: Worker | undefined;
  #events: QueueEvents | undefined;
  #eventsReady: Promise<void> = Promise.resolve();
  readonly #waiters = new Map<string, Set<() => void>>();
  // BullMQ does not close connections it was handed; these are closed here.
  readonly #connections: Redis[] = [];

  private constructor(options: BullMqJobQueueOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    const connection = this.#connect('request');
    this.#queue = new Queue(GENERATION_QUEUE_NAME, { connection, prefix: options.keyPrefix });
    connection.defineCommand('pixyproxyAdmitJob', { numberOfKeys: 5, lua: ADMIT_JOB_LUA });
    this.#requests = connection as AdmittingRedis;
    this.#admissionsKey = `${options.keyPrefix}:${GENERATION_QUEUE_NAME}-admissions`;
    this.#queue.on('error', () => {});
    // The global concurrency is a key in Redis; a Redis that comes back empty (no persistence) has
    // lost it, and without it the workers would run without a global limit.
    let connectedBefore = false;
    connection.on('ready', () => {
      if (connectedBefore) {
        this.#queue.setGlobalConcurrency(options.concurrency).catch((err: unknown) => this.#log.warn({ err }, 'could not set the global concurrency'));
      }
      connectedBefore = true;
    });
  }

  /**
   * Connects, sets the global concurrency and starts this process's worker when a processor is given.
   * @throws SharedStateUnavailableError when Redis cannot be reached.
   */
  static async open(options: BullMqJobQueueOptions): Promise<BullMqJobQueue> {
    const queue = new BullMqJobQueue(options);
    try {
      await onSharedState(async () => {
        await queue.#queue.waitUntilReady();
        await queue.#queue.setGlobalConcurrency(options.concurrency);
      });
      if (options.processor) queue.#startWorker(options.processor);
      return queue;
    } catch (error) {
      await queue.close();
      throw error;
    }
  }

  #startWorker(processor: JobProcessor): void {
    const worker = new Worker<GenerationJobData, JobResult>(
      GENERATION_QUEUE_NAME,
      async (job) => {
        this.#log.info({ job_id: job.id, attempt: job.attemptsStarted }, 'generation job started');
        const result = await processor(job.data);
        if (result.outcome === 'failed') {
          await this.#slowDownOn(result);
          // The cause stays in this process (logged by the processor); only the serialised failure is stored.
          return { outcome: 'failed', failure: result.failure };
        }
        return result;
      },
      {
        connection: this.#connect('queue'),
        prefix: this.#options.keyPrefix,
        concurrency: this.#options.concurrency,
        lockDuration: this.#options.lockMs,
        stalledInterval: this.#options.lockMs,
        // A job whose worker died is run again (exactly one image either way); twice is enough.
        maxStalledCount: 2,
        // After a Redis error the worker would otherwise wait 15 s before fetching again.
        runRetryDelay: 500,
        removeOnComplete: { age: RETENTION_SECONDS },
        removeOnFail: { age: RETENTION_SECONDS },
      },
    );
    worker.on('error', (err) => this.#log.warn({ err }, 'generation worker: Redis error; retrying'));
    worker.on('stalled', (jobId) => this.#log.warn({ job_id: jobId }, 'generation job stalled (its worker died?); it runs again'));
    this.#worker = worker;
  }

  async #slowDownOn(result: Extract<JobResult, { outcome: 'failed' }>): Promise<void> {
    const { failure } = result;
    if (failure.name !== 'ServiceUnavailableError' || failure.retryAfterSeconds === undefined) return;
    const ms = Math.min(MAX_SLOWDOWN_MS, failure.retryAfterSeconds * 1000);
    this.#log.warn({ pause_ms: ms }, 'image provider busy; pausing the generation queue');
    try {
      await this.#queue.rateLimit(ms);
    } catch (err) {
      this.#log.warn({ err }, 'could not pause the generation queue');
    }
  }

  async enqueue(data: GenerationJobData): Promise<GenerationJob> {
    return onSharedState(async () => {
      const existing = await this.find(data.id);
      if (existing !== undefined) return existing;
      const keys = this.#queue.keys;
      const [granted, waiting] = await this.#requests.pixyproxyAdmitJob(
        keys.wait!, keys.paused!, keys.prioritized!, keys.delayed!, this.#admissionsKey,
        this.#options.queueBound, data.id, ADMISSION_TTL_MS, keys['']!,
      );
      if (granted !== 1) {
        throw new ServiceUnavailableError('Too many images are waiting to be generated; try again shortly', {
          retryAfterSeconds: Math.max(1, Math.min(300, Math.ceil(waiting / this.#options.concurrency) * 5)),
        });
      }
      let job: Job<GenerationJobData, JobResult>;
      try {
        // A duplicate jobId is ignored by BullMQ, so two instances adding one id make one job.
        job = await this.#queue.add('generate', data, {
          jobId: data.id,
          attempts: 1,
          removeOnComplete: { age: RETENTION_SECONDS },
          removeOnFail: { age: RETENTION_SECONDS },
        });
      } finally {
        // Once the job's hash exists the admission no longer counts; removing it keeps the set small.
        await this.#requests.zrem(this.#admissionsKey, data.id).catch(() => {});
      }
      return (await this.#view(job)) ?? queuedView(data, job.timestamp);
    });
  }

  async find(id: string): Promise<GenerationJob | undefined> {
    return onSharedState(async () => {
      const job = await Job.fromId<GenerationJobData, JobResult>(this.#queue, id);
      return job === undefined ? undefined : this.#view(job);
    });
  }

  async #view(read: Job<GenerationJobData, JobResult>): Promise<GenerationJob | undefined> {
    const state = await read.getState();
    if (state === 'unknown') return undefined;
    // The job may have finished between reading it and asking its state: then the copy in hand has
    // no result yet, and would read as a job lost without one. Read it again once it is finished.
    const finished = state === 'completed' || state === 'failed';
    const job = finished && read.finishedOn === undefined ? ((await Job.fromId<GenerationJobData, JobResult>(this.#queue, read.id!)) ?? read) : read;
    const view = queuedView(job.data, job.timestamp);
    if (job.processedOn !== undefined) view.startedAt = new Date(job.processedOn).toISOString();
    if (state === 'active') view.status = 'running';
    if (state === 'completed' || state === 'failed') {
      view.finishedAt = new Date(job.finishedOn ?? Date.now()).toISOString();
      const result = job.returnvalue as JobResult | null | undefined;
      if (state === 'completed' && result?.outcome === 'succeeded') {
        view.status = 'succeeded';
        view.imageGuid = result.imageGuid;
      } else {
        view.status = 'failed';
        // A BullMQ-level failure: the job stalled more than maxStalledCount times (workers kept
        // dying), or its worker lost its lock while Redis was away. Temporary, so a 503.
        view.failure =
          result?.outcome === 'failed'
            ? result.failure
            : { name: 'ServiceUnavailableError', message: 'The generation job was lost; try again', retryAfterSeconds: 2 };
      }
    }
    return view;
  }

  async waitUntilFinished(id: string, signal?: AbortSignal): Promise<GenerationJob | undefined> {
    await this.#listenForCompletions();
    for (;;) {
      signal?.throwIfAborted();
      // Listening before reading, so a completion between the read and the wait is not missed.
      const woken = this.#nextEventFor(id, signal);
      try {
        const job = await this.find(id);
        if (job === undefined || job.status === 'succeeded' || job.status === 'failed') {
          woken.cancel();
          return job;
        }
      } catch (error) {
        // Redis unreachable: keep waiting, the job goes on and so does this caller once Redis is back.
        if (!(error instanceof ServiceUnavailableError)) {
          woken.cancel();
          throw error;
        }
      }
      try {
        await woken.wait;
      } finally {
        woken.cancel();
      }
    }
  }

  /** One QueueEvents stream per process, opened when somebody first waits. */
  async #listenForCompletions(): Promise<void> {
    if (this.#events !== undefined) return this.#eventsReady;
    const events = new QueueEvents(GENERATION_QUEUE_NAME, { connection: this.#connect('queue'), prefix: this.#options.keyPrefix });
    events.on('error', () => {});
    const wake = ({ jobId }: { jobId: string }) => {
      for (const waiter of this.#waiters.get(jobId) ?? []) waiter();
    };
    events.on('completed', wake);
    events.on('failed', wake);
    this.#events = events;
    // Events before the stream is read are not seen; the poll in waitUntilFinished covers a miss.
    this.#eventsReady = events.waitUntilReady().then(
      () => undefined,
      () => undefined,
    );
    return this.#eventsReady;
  }

  /** Resolves on the job's next completion event, after WAIT_POLL_MS, or when the signal aborts. */
  #nextEventFor(id: string, signal: AbortSignal | undefined): { wait: Promise<void>; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let wake: () => void = () => {};
    const wait = new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, WAIT_POLL_MS);
    });
    const set = this.#waiters.get(id) ?? new Set();
    set.add(wake);
    this.#waiters.set(id, set);
    signal?.addEventListener('abort', wake, { once: true });
    return {
      wait,
      cancel: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        set.delete(wake);
        if (set.size === 0) this.#waiters.delete(id);
      },
    };
  }

  /** Lets this process's running jobs finish, then disconnects. */
  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#events?.close();
    await this.#queue.close();
    for (const connection of this.#connections.splice(0)) connection.disconnect();
  }

  #connect(kind: 'request' | 'queue'): Redis {
    const connection = this.#options.connect(kind);
    this.#connections.push(connection);
    return connection;
  }
}

function queuedView(data: GenerationJobData, timestamp: number): GenerationJob {
  return {
    id: data.id,
    author: data.author,
    status: 'queued',
    createdAt: new Date(timestamp).toISOString(),
    startedAt: undefined,
    finishedAt: undefined,
    imageGuid: undefined,
    failure: undefined,
  };
}
