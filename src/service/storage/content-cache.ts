/**
 * Recently served image bytes in memory, keyed by their sha-256 and bounded by total size: the
 * least recently served image is dropped first. Safe to keep without invalidation, because the bytes
 * with a given sha-256 never change; whether an image still exists is decided by its row, which the
 * caller looks up on every request (so a deleted image answers 404 at once, on every instance).
 */
export class ContentCache {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  readonly #entries = new Map<string, Buffer>();
  readonly #filling = new Map<string, Promise<Buffer | undefined>>();
  #bytes = 0;

  /**
   * @param maxBytes total size of the cached bytes (CONTENT_CACHE_BYTES); 0 turns the cache off.
   *   An image larger than a quarter of it is never cached, so one image cannot empty the cache.
   */
  constructor(readonly maxBytes: number) {}

  /** Bytes currently held. */
  get size(): number {
    return this.#bytes;
  }

  /** Whether an image of `byteSize` bytes would be kept. */
  admits(byteSize: number): boolean {
    return this.maxBytes > 0 && byteSize <= this.maxBytes / 4;
  }

  /**
   * The bytes with this sha-256: from memory, or read by `load` and kept when they are exactly
   * `byteSize` long. Concurrent misses for the same image share one `load`, so a burst of requests
   * for a cold image reads it once instead of once per request. Undefined when `load` finds nothing.
   * @throws whatever `load` throws (nothing is cached then)
   */
  async get(sha256: string, byteSize: number, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const hit = this.#entries.get(sha256);
    if (hit !== undefined) {
      this.#entries.delete(sha256);
      this.#entries.set(sha256, hit);
      return hit;
    }
    let pending = this.#filling.get(sha256);
    if (pending === undefined) {
      pending = load().then((bytes) => {
        if (bytes !== undefined && bytes.length === byteSize && this.admits(byteSize)) this.#keep(sha256, bytes);
        return bytes;
      });
      this.#filling.set(sha256, pending);
      void pending.finally(() => this.#filling.delete(sha256)).catch(() => undefined);
    }
    return pending;
  }

  #keep(sha256: string, bytes: Buffer): void {
    if (this.#entries.has(sha256)) return;
    this.#entries.set(sha256, bytes);
    this.#bytes += bytes.length;
    for (const [key, value] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= value.length;
    }
  }
}
