import { DEFAULT_RETRY_AFTER_SECONDS, ServiceUnavailableError } from '../../core/errors.js';
import {
  JOB_RETENTION_MS,
  type GenerationJob,
  type GenerationJobData,
  type GenerationJobQueue,
  type JobProcessor,
} from './generation-jobs.js';

interface Entry {
  job: GenerationJob;
  finished: Promise<void>;
}

export interface InProcessJobQueueOptions {
  processor: JobProcessor;
  /**
   * Whether one more job may be accepted now: the generation limiter's GENERATION_CONCURRENCY
   * running plus GENERATION_QUEUE waiting, which the processor's generator is wrapped in.
   */
  hasRoom: () => boolean;
  /** Upper bound on remembered jobs, so a flood of creates cannot exhaust memory. */
  maxJobs?: number;
  now?: () => number;
}

/**
 * Generation jobs without Redis (one instance): a job starts at once in this process, behind the
 * generation limiter that bounds concurrency and waiting. Jobs live in memory for 25 hours (or until
 * maxJobs newer ones push them out); a restart forgets them, and a job running at that moment is
 * lost: its image is never made (an Idempotency-Key naming it is then released for a retry).
 */
export class InProcessJobQueue implements GenerationJobQueue {
  readonly #jobs = new Map<string, Entry>();
  readonly #options: InProcessJobQueueOptions;
  readonly #now: () => number;
  readonly #maxJobs: number;
  #closed = false;

  constructor(options: InProcessJobQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxJobs = options.maxJobs ?? 100_000;
  }

  async enqueue(data: GenerationJobData): Promise<GenerationJob> {
    const existing = this.#jobs.get(data.id);
    if (existing !== undefined) return { ...existing.job };
    if (this.#closed || !this.#options.hasRoom()) {
      throw new ServiceUnavailableError('Too many images are being generated right now; try again shortly', {
        retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
      });
    }
    this.#prune();
    const job: GenerationJob = {
      id: data.id,
      author: data.author,
      status: 'running',
      createdAt: this.#iso(),
      startedAt: this.#iso(),
      finishedAt: undefined,
      imageGuid: undefined,
      failure: undefined,
    };
    const finished = this.#options.processor(data).then((result) => {
      job.finishedAt = this.#iso();
      if (result.outcome === 'succeeded') {
        job.status = 'succeeded';
        job.imageGuid = result.imageGuid;
      } else {
        job.status = 'failed';
        job.failure = result.failure;
        if (result.cause !== undefined) job.cause = result.cause;
      }
    });
    this.#jobs.set(data.id, { job, finished });
    return { ...job };
  }

  async find(id: string): Promise<GenerationJob | undefined> {
    const entry = this.#jobs.get(id);
    return entry === undefined ? undefined : { ...entry.job };
  }

  async waitUntilFinished(id: string, signal?: AbortSignal): Promise<GenerationJob | undefined> {
    const entry = this.#jobs.get(id);
    if (entry === undefined) return undefined;
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      void entry.finished.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    return { ...entry.job };
  }

  /**
   * Refuses new jobs. Running ones are not waited for: the server has already let its synchronous
   * requests finish (SHUTDOWN_TIMEOUT_MS), and an async job still running is lost with the process.
   */
  async close(): Promise<void> {
    this.#closed = true;
  }

  // Map iteration is insertion order, so the oldest jobs come first.
  #prune(): void {
    const cutoff = this.#now() - JOB_RETENTION_MS;
    for (const [id, { job }] of this.#jobs) {
      const finished = job.finishedAt !== undefined;
      if (this.#jobs.size < this.#maxJobs && !(finished && Date.parse(job.finishedAt!) < cutoff)) break;
      if (finished) this.#jobs.delete(id);
    }
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}
