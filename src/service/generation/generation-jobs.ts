import type { SerializedError } from '../../core/errors.js';
import type { ImageOptionsInput } from './image-options.js';

/**
 * A generation job's life: `queued` (accepted, waiting for a worker), `running`, then `succeeded`
 * (the image exists) or `failed` (with the error the synchronous call would have answered).
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** What a job is asked to do. Its id is also the guid of the image it makes (one image per job). */
export interface GenerationJobData {
  id: string;
  /** Username of the caller; only they (and admins) may see the job. */
  author: string;
  prompt: string;
  tags: string[];
  /** The generation options as sent (model, size, quality, ...), checked per model when the job runs. */
  options: ImageOptionsInput;
  /** The request's Idempotency-Key, when it had one: a failure is then recorded with the key. */
  idempotencyKey?: string;
  /**
   * The quota hold taken when the job was accepted (the metering room's reservation, JSON-safe: `id`
   * null when the author has no quotas and nothing is held). Every run of the job settles or lifts
   * this one hold, so a job run again after its worker died never takes a second. Absent on a job an
   * older version accepted: the job then takes its own hold.
   */
  hold?: QuotaHold;
}

/** A reservation of the author's quota, as it travels with a job. */
export interface QuotaHold {
  id: string | null;
  username: string;
  /** The worst-case cost held, in nano-dollars. */
  worstCaseNanoUsd: number;
}

/** A job as GET /jobs/{id} reports it. Times are ISO 8601 UTC. */
export interface GenerationJob {
  id: string;
  author: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  /** Set once succeeded. */
  imageGuid: string | undefined;
  /** Set once failed. */
  failure: SerializedError | undefined;
  /**
   * The failure's original cause, when the job ran in this process (never stored or sent): lets a
   * synchronous caller's 500 log line carry it, with its request id.
   */
  cause?: unknown;
}

/** What a job's processor returns; failures are results too, so they are kept with the job. */
export type JobResult =
  | { outcome: 'succeeded'; imageGuid: string }
  | { outcome: 'failed'; failure: SerializedError; /** Not serialised; see GenerationJob.cause. */ cause?: unknown };

/**
 * Does one job: generates, stores the bytes under the job's guid and inserts the row, idempotently
 * (run twice for one id, after a worker died mid-job, it still makes exactly one image). Never throws:
 * a failure is a result.
 */
export type JobProcessor = (data: GenerationJobData) => Promise<JobResult>;

/** How long finished jobs are kept for GET /jobs/{id} and replays: at least 24 hours. */
export const JOB_RETENTION_MS = 25 * 60 * 60 * 1000;

/**
 * Where generation jobs wait and run. Two adapters: in this process (no REDIS_URL; jobs live in
 * memory and a restart forgets them) and BullMQ on Redis (jobs shared by every instance, kept 25 h).
 */
export interface GenerationJobQueue {
  /**
   * Accepts a job; adding an id that exists returns the existing job unchanged.
   * @throws ServiceUnavailableError (503 + Retry-After) past GENERATION_QUEUE waiting jobs;
   *   SharedStateUnavailableError when Redis cannot be reached.
   */
  enqueue(data: GenerationJobData): Promise<GenerationJob>;
  /** The job, or undefined when there is none (never was, or older than the retention). */
  find(id: string): Promise<GenerationJob | undefined>;
  /**
   * Resolves with the job once it has succeeded or failed, or undefined when the job is gone (Redis
   * lost its data; the caller then looks for the image itself, since the job may have made it). The
   * job goes on when the signal aborts (the caller stops waiting, with the signal's reason).
   */
  waitUntilFinished(id: string, signal?: AbortSignal): Promise<GenerationJob | undefined>;
  /** Stops taking and running jobs; a running job finishes first (or is recovered by another worker). */
  close(): Promise<void>;
}
