import { createHash } from 'node:crypto';
import type { User } from '../../core/models/user.js';

interface Entry {
  user: User;
  expiresAt: number;
}

/**
 * Remembers recently verified credentials so a client sending the same Basic header on every request
 * pays for scrypt once per TTL. Keyed by a SHA-256 of the credentials, never the password itself;
 * entries of a user go as soon as their password changes or the user is removed.
 */
export class CredentialCache {
  readonly #entries = new Map<string, Entry>();
  // Bumped by every eviction. A verification that started before one may have read a hash that is
  // no longer current, so it must not cache what it verified.
  #epoch = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(username: string, password: string): string {
    return createHash('sha256').update(username).update('\0').update(password).digest('base64');
  }

  get(key: string): User | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.user;
  }

  /** Take before reading a user's hash; hand it to set() afterwards. */
  epoch(): number {
    return this.#epoch;
  }

  set(key: string, user: User, readAtEpoch: number = this.#epoch): void {
    if (this.ttlMs <= 0 || readAtEpoch !== this.#epoch) return;
    if (this.#entries.size >= this.maxEntries) {
      // Maps iterate in insertion order, so the first key is the oldest entry.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { user, expiresAt: this.now() + this.ttlMs });
  }

  evictUser(username: string): void {
    this.#epoch += 1;
    for (const [key, entry] of this.#entries) if (entry.user.username === username) this.#entries.delete(key);
  }

  /** Forgets every entry (evictions from other instances may have been missed). */
  evictAll(): void {
    this.#epoch += 1;
    this.#entries.clear();
  }
}
