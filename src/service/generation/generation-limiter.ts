import { ConcurrencyGate } from '../../core/concurrency-gate.js';
import { DEFAULT_RETRY_AFTER_SECONDS, ServiceUnavailableError } from '../../core/errors.js';
import type { GeneratedImage, GenerationRequest, ImageGenerator } from './image-generator.js';

export interface GenerationLimits {
  /** Generations in flight at once (GENERATION_CONCURRENCY). */
  concurrency: number;
  /** Requests allowed to wait for a slot (GENERATION_QUEUE); beyond it, 503. */
  queue: number;
}

const MAX_RETRY_AFTER_SECONDS = 300;
/** Weight of the newest duration in the running average behind Retry-After. */
const SMOOTHING = 0.3;

/**
 * Caps what generation costs: at most `concurrency` calls in flight, then a bounded FIFO of waiters,
 * then an immediate 503 whose Retry-After is about one generation's recent duration (when a slot is
 * likely to free up). Wraps any generator, so the local one is bounded the same way.
 */
export class GenerationLimiter implements ImageGenerator {
  readonly #inner: ImageGenerator;
  readonly #gate: ConcurrencyGate;
  readonly #now: () => number;
  #averageMs: number | undefined;

  constructor(inner: ImageGenerator, limits: GenerationLimits, now: () => number = Date.now) {
    this.#inner = inner;
    this.#gate = new ConcurrencyGate(limits);
    this.#now = now;
  }

  get name(): string {
    return this.#inner.name;
  }

  /** Generations running now. */
  get active(): number {
    return this.#gate.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#gate.queued;
  }

  async generate(prompt: string, request?: GenerationRequest): Promise<GeneratedImage> {
    // A waiter leaves the queue only when a slot is handed to it: a client hanging up does not
    // cancel a paid generation, and shutdown lets queued creates finish (docs/ARCHITECTURE.md).
    await this.#gate.acquire(
      () =>
        new ServiceUnavailableError('Too many images are being generated right now; try again shortly', {
          retryAfterSeconds: this.#retryAfterSeconds(),
        }),
    );
    const started = this.#now();
    try {
      return await this.#inner.generate(prompt, request);
    } finally {
      this.#record(this.#now() - started);
      this.#gate.release();
    }
  }

  #record(durationMs: number): void {
    this.#averageMs = this.#averageMs === undefined ? durationMs : this.#averageMs + SMOOTHING * (durationMs - this.#averageMs);
  }

  #retryAfterSeconds(): number {
    if (this.#averageMs === undefined) return DEFAULT_RETRY_AFTER_SECONDS;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(this.#averageMs / 1000)));
  }
}
