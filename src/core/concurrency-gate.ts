/** How many may hold a slot of a ConcurrencyGate at once, and how many may wait for one. */
export interface ConcurrencyLimits {
  /** Slots: holders at once (at least 1). */
  concurrency: number;
  /** Waiters allowed in the FIFO once every slot is held; 0 refuses at once. */
  queue: number;
}

/**
 * A bounded semaphore for expensive work (generations, thumbnail resizes): at most `concurrency`
 * holders, then a FIFO of at most `queue` waiters, then an immediate refusal with the caller's error
 * (a 503 with Retry-After, in practice). A released slot is handed straight to the oldest waiter, so
 * a newcomer cannot overtake the queue and `active` stays counted while the slot changes hands.
 * A waiter leaves the queue only when a slot is handed to it: there is no cancelling a wait.
 */
export class ConcurrencyGate {
  readonly #limits: ConcurrencyLimits;
  readonly #waiting: (() => void)[] = [];
  #active = 0;

  constructor(limits: ConcurrencyLimits) {
    this.#limits = limits;
  }

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves once the caller holds a slot; it must call release() exactly once afterwards (in a `finally`).
   * @param refusal Makes the error to reject with when every slot is held and the queue is full.
   */
  acquire(refusal: () => Error): Promise<void> {
    if (this.#active < this.#limits.concurrency) {
      this.#active += 1;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.#limits.queue) return Promise.reject(refusal());
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Gives the slot back: to the oldest waiter if there is one. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active -= 1;
  }
}
