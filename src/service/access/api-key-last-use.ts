import type { ApiKeyRepository } from '../../data/api-key-repository.js';
import type { ServiceLogger } from '../../core/service-logger.js';

interface KeyUse {
  /** Newest use seen in this process, epoch ms. */
  latest: number;
  /** When last_used_at was last written from this process, epoch ms. */
  writtenAt: number;
  /** The newest use not written yet; undefined when the row is up to date. */
  pending: number | undefined;
}

/**
 * Remembers when each key was last used without a database write per request: a key's first use in
 * this process is written at once, later uses at most once per interval (one minute by default), on
 * the next use after the interval or by flush() at shutdown. What the table says is therefore at most
 * one interval old; latest() gives this process's exact value for lists.
 */
export class ApiKeyLastUse {
  readonly #uses = new Map<string, KeyUse>();
  readonly #writes = new Set<Promise<void>>();

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly log: ServiceLogger,
    private readonly intervalMs = 60_000,
  ) {}

  /** Notes one use of a key at `at` (epoch ms); may start one background write. */
  record(id: string, at: number): void {
    const use = this.#uses.get(id);
    if (use === undefined) {
      this.#uses.set(id, { latest: at, writtenAt: at, pending: undefined });
      this.#write(id, at);
      return;
    }
    use.latest = Math.max(use.latest, at);
    if (at - use.writtenAt >= this.intervalMs) {
      use.writtenAt = at;
      use.pending = undefined;
      this.#write(id, use.latest);
    } else {
      use.pending = use.latest;
    }
  }

  /** The newest use this process has seen, epoch ms. */
  latest(id: string): number | undefined {
    return this.#uses.get(id)?.latest;
  }

  /** Forgets a key (revoked): nothing more is written for it. */
  forget(id: string): void {
    this.#uses.delete(id);
  }

  /** Writes every pending use and waits for writes in flight; for shutdown. Never throws. */
  async flush(): Promise<void> {
    for (const [id, use] of this.#uses) {
      if (use.pending === undefined) continue;
      use.pending = undefined;
      this.#write(id, use.latest);
    }
    await Promise.all(this.#writes);
  }

  // A failed write only costs accuracy of "last used", so it is logged and never fails the request.
  #write(id: string, at: number): void {
    const write = this.keys
      .recordLastUsed(id, new Date(at).toISOString())
      .catch((error: unknown) => this.log.warn({ err: error, key_id: id }, 'could not record when an API key was last used'))
      .finally(() => this.#writes.delete(write));
    this.#writes.add(write);
  }
}
