import { createHash, randomUUID } from 'node:crypto';
import {
  BadRequestError,
  DBConnectionError,
  deserializeError,
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  PixyproxyError,
  RecordNotFoundError,
  serializeError,
  ServiceUnavailableError,
} from '../../core/errors.js';
import type { ImageDetail } from '../../core/models/image.js';
import type { User } from '../../core/models/user.js';
import type { IdempotencyKeyRepository, IdempotencyRecord } from '../../data/idempotency-key-repository.js';
import type { GenerationJob, GenerationJobData, GenerationJobQueue, JobProcessor, QuotaHold } from '../generation/index.js';
import type { Reservation } from '../metering/index.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';
import type { CreateImageCommand } from './image-commands.js';

/** How long an Idempotency-Key is remembered (Stripe keeps keys 24 hours). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
/** 1-255 printable ASCII characters (space through tilde). */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export interface CreateRequest {
  author: User;
  /** The body as a command (normalised), so the hash compared for an Idempotency-Key ignores trivia. */
  command: CreateImageCommand;
  /** The Idempotency-Key header, as sent. */
  idempotencyKey?: string | undefined;
  /** `Prefer: respond-async` (RFC 7240): answer once the job is accepted instead of once it is done. */
  respondAsync: boolean;
  /** Aborted when the caller stops waiting (shutdown); the job itself goes on. */
  signal?: AbortSignal;
}

/** What POST /image answers; `replayed` when an Idempotency-Key made this a replay (Idempotent-Replayed: true). */
export type CreateResponse =
  | { kind: 'created'; image: ImageDetail; replayed: boolean }
  | { kind: 'accepted'; job: GenerationJob; replayed: boolean }
  | { kind: 'failed'; error: PixyproxyError; replayed: boolean };

/**
 * The checks a create passes before its job is accepted (PrivateImageService.admit/withdraw): options
 * per model and the quota hold, so `Prefer: respond-async` answers their 4xx instead of a 202.
 */
export interface CreateAdmission {
  /** The options for the chosen model only; holds nothing. @throws DataValidationError (400) */
  checkOptions(command: CreateImageCommand): void;
  /** @throws DataValidationError (400), QuotaExceededError (429), DBConnectionError (503) */
  admit(author: User, command: CreateImageCommand): Promise<Reservation | undefined>;
  /** Lifts the hold of a create whose job was not accepted; never throws. */
  withdraw(reservation: Reservation | undefined): Promise<void>;
}

export interface ImageCreationDeps {
  jobs: GenerationJobQueue;
  admission: CreateAdmission;
  idempotencyKeys: IdempotencyKeyRepository;
  /** The image of a guid, if it exists. */
  findImage: (guid: string) => Promise<ImageDetail | undefined>;
  now?: () => Date;
}

/**
 * POST /image as generation jobs: every create is a job whose id is the new image's guid. A
 * synchronous create waits for its job; `Prefer: respond-async` returns the accepted job at once.
 *
 * Idempotency-Key (Stripe's semantics, per user, kept 24 hours in the database): the first request
 * with a key starts a job and records the key with a SHA-256 of the normalised body. Later ones with
 * the same key and body replay: the image (201), the recorded failure, or, while the job still runs,
 * the same job (respond-async) or IdempotencyKeyInUseError (409). A different body is
 * IdempotencyKeyReusedError (422). Temporary failures (503) release the key, so retrying the same
 * request with the same key is the right move after Retry-After.
 */
export class ImageCreationService {
  readonly #jobs: GenerationJobQueue;
  readonly #admission: CreateAdmission;
  readonly #keys: IdempotencyKeyRepository;
  readonly #findImage: (guid: string) => Promise<ImageDetail | undefined>;
  readonly #now: () => Date;

  constructor(deps: ImageCreationDeps) {
    this.#jobs = deps.jobs;
    this.#admission = deps.admission;
    this.#keys = deps.idempotencyKeys;
    this.#findImage = deps.findImage;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Every check that needs no provider call runs before the job is accepted, in this order, so an
   * asynchronous create is refused exactly as a synchronous one: the Idempotency-Key (format, then
   * replay or conflict), the options per model and the quota hold (PrivateImageService.admit), then
   * the queue bound. A refusal leaves nothing behind: the key is released and the hold lifted.
   * @throws BadRequestError (400) for a malformed Idempotency-Key; DataValidationError (400) for
   *   options the model does not take; IdempotencyKeyReusedError (422); IdempotencyKeyInUseError
   *   (409); QuotaExceededError (429); ServiceUnavailableError (503, queue full or Redis down) and
   *   DBConnectionError (503). A job's own failure is a `failed` response, not a throw.
   */
  /**
   * The per-model option rules `create` applies first, alone: for the routes to run before they
   * count a create against CREATE_RATE_LIMIT, so a create refused for its options (400) does not
   * use up the allowance (docs/API.md, "Rate limits"). Pure: no database, no hold.
   * @throws DataValidationError (400) naming each bad field under `/body`
   */
  checkOptions(command: CreateImageCommand): void {
    this.#admission.checkOptions(command);
  }

  async create(request: CreateRequest): Promise<CreateResponse> {
    const { command } = request;
    const data: GenerationJobData = { id: randomUUID(), author: request.author.username, ...command };
    const key = request.idempotencyKey;
    if (key === undefined) return this.#run(data, request);
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new BadRequestError('Idempotency-Key must be 1-255 printable ASCII characters', {
        errors: [{ path: '/headers/idempotency-key', message: 'must be 1-255 characters from space (0x20) to tilde (0x7E)' }],
      });
    }
    const requestSha256 = createHash('sha256').update(JSON.stringify(command)).digest('hex');
    // Two tries: a key whose job was lost (a restart without Redis) is released and claimed afresh.
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = this.#now();
      const first = await this.#keys.claim(
        {
          username: data.author,
          key,
          requestSha256,
          jobId: data.id,
          createdAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_MS).toISOString(),
        },
        now.toISOString(),
      );
      if (first === undefined) return this.#run({ ...data, idempotencyKey: key }, request);
      if (first.requestSha256 !== requestSha256) {
        throw new IdempotencyKeyReusedError('This Idempotency-Key was already used with a different request body');
      }
      const replay = await this.#replay(first, request);
      if (replay !== undefined) return replay;
    }
    throw new IdempotencyKeyInUseError('The request with this Idempotency-Key is still being processed; retry later');
  }

  async #run(data: GenerationJobData, request: CreateRequest): Promise<CreateResponse> {
    let job: GenerationJob;
    let reservation: Reservation | undefined;
    try {
      reservation = await this.#admission.admit(request.author, request.command);
      job = await this.#jobs.enqueue({ ...data, hold: holdOf(reservation, data.author) });
    } catch (error) {
      // Nothing was started, so neither the key nor the quota may remember anything.
      await this.#admission.withdraw(reservation);
      if (data.idempotencyKey !== undefined) await this.#keys.release(data.author, data.idempotencyKey, data.id);
      throw error;
    }
    if (request.respondAsync) return { kind: 'accepted', job, replayed: false };
    const finished = await this.#jobs.waitUntilFinished(job.id, request.signal);
    if (finished !== undefined) return this.#outcome(finished, false);
    // The job record is gone (Redis restarted empty); the job may still have made its image.
    const image = await this.#findImage(job.id);
    if (image !== undefined) return { kind: 'created', image, replayed: false };
    if (data.idempotencyKey !== undefined) await this.#keys.release(data.author, data.idempotencyKey, data.id);
    throw new ServiceUnavailableError('The generation job was lost while shared state was unavailable; try again', {
      retryAfterSeconds: 2,
    });
  }

  /** The response recorded for a key; undefined when its job was lost (the key is then released). */
  async #replay(first: IdempotencyRecord, request: CreateRequest): Promise<CreateResponse | undefined> {
    const image = await this.#findImage(first.jobId);
    if (image !== undefined) return { kind: 'created', image, replayed: true };
    if (first.failure !== undefined) return { kind: 'failed', error: deserializeError(first.failure), replayed: true };
    const job = await this.#jobs.find(first.jobId);
    if (job === undefined) {
      await this.#keys.release(first.username, first.key, first.jobId);
      return undefined;
    }
    if (request.respondAsync) return { kind: 'accepted', job, replayed: true };
    if (job.status === 'succeeded' || job.status === 'failed') return this.#outcome(job, true);
    throw new IdempotencyKeyInUseError('The request with this Idempotency-Key is still being processed; retry later', {
      retryAfterSeconds: 2,
    });
  }

  async #outcome(job: GenerationJob, replayed: boolean): Promise<CreateResponse> {
    if (job.status === 'succeeded') {
      const image = await this.#findImage(job.imageGuid ?? job.id);
      if (image !== undefined) return { kind: 'created', image, replayed };
      return { kind: 'failed', error: new RecordNotFoundError('The image this request created has since been deleted'), replayed };
    }
    if (job.status === 'failed' && job.failure !== undefined) {
      // A job lost after its image was made (a worker cut off from Redis after the insert) did succeed.
      const image = await this.#findImage(job.id);
      if (image !== undefined) return { kind: 'created', image, replayed };
      return { kind: 'failed', error: deserializeError(job.failure, job.cause), replayed };
    }
    throw new Error(`generation job ${job.id} has not finished`);
  }

  /**
   * A job as its owner (or an admin) may see it.
   * @throws RecordNotFoundError (404) when there is no such job or the actor may not see it: a
   *   stranger cannot tell someone else's job from none.
   */
  async findJob(actor: User, id: string): Promise<GenerationJob> {
    const job = await this.#jobs.find(id);
    if (job === undefined || (job.author !== actor.username && !actor.is_admin)) {
      throw new RecordNotFoundError(`No generation job ${id}`);
    }
    return job;
  }
}

/** The hold as a job carries it (JSON-safe); no metering (unit tests): nothing held. */
function holdOf(reservation: Reservation | undefined, username: string): QuotaHold {
  return { id: reservation?.id ?? null, username: reservation?.username ?? username, worstCaseNanoUsd: reservation?.worstCaseNanoUsd ?? 0 };
}

/**
 * The job processor over the image service's idempotent create: the job id is the guid. A failure
 * becomes the job's result; when the request had an Idempotency-Key and the failure is final (not a
 * 503 worth retrying), it is recorded with the key so replays answer it too.
 */
export function imageJobProcessor(deps: {
  /** PrivateImageService.create: `admitted` is the hold the job was accepted with (absent: an older job, which takes its own). */
  create: (author: User, command: CreateImageCommand, guid: string, admitted?: { reservation: Reservation | undefined }) => Promise<ImageDetail>;
  idempotencyKeys: IdempotencyKeyRepository;
  log?: ServiceLogger;
}): JobProcessor {
  const log = deps.log ?? silentLogger;
  return async (data) => {
    // The author as stored with the job; permissions were checked when it was accepted.
    const author: User = { username: data.author, is_admin: false, created_at: new Date(0).toISOString() };
    try {
      const command = { prompt: data.prompt, tags: data.tags, options: data.options };
      const { hold } = data;
      const admitted = hold && { reservation: { id: hold.id ?? undefined, username: hold.username, worstCaseNanoUsd: hold.worstCaseNanoUsd } };
      const image = await deps.create(author, command, data.id, admitted);
      return { outcome: 'succeeded', imageGuid: image.guid };
    } catch (error) {
      // Logged at warn: a synchronous caller's 500 logs the cause again at error, with its request id.
      if (!(error instanceof PixyproxyError)) log.warn({ err: error, job_id: data.id }, 'generation job failed unexpectedly');
      const failure = serializeError(error);
      const temporary = error instanceof ServiceUnavailableError || error instanceof DBConnectionError;
      if (data.idempotencyKey !== undefined) {
        try {
          if (temporary) await deps.idempotencyKeys.release(data.author, data.idempotencyKey, data.id);
          else await deps.idempotencyKeys.recordFailure(data.author, data.idempotencyKey, data.id, failure);
        } catch (err) {
          log.warn({ err, job_id: data.id }, 'could not record the outcome with its Idempotency-Key');
        }
      }
      return { outcome: 'failed', failure, cause: error };
    }
  };
}
