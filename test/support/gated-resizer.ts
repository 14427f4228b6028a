import type { ImageResizer, ResizeRequest } from '../../src/service/storage/index.js';

/**
 * A resizer whose gate holds every resize until released, and counts them: with it a test fills the
 * resize bound (THUMBNAIL_CONCURRENCY) without timing. Past the gate it answers what `inner` makes
 * (the real SharpResizer, say), or, without one, the original tagged with the request.
 */
export class GatedResizer implements ImageResizer {
  readonly calls: ResizeRequest[] = [];
  /** Resolves once a resize is waiting at the closed gate. */
  readonly held: Promise<void>;
  readonly #inner: ImageResizer | undefined;
  #gate: Promise<void> | undefined;
  #open: () => void = () => undefined;
  #signalHeld: () => void = () => undefined;

  /** @param options.closed whether the gate starts closed (default); an open one lets resizes through until close(). */
  constructor(inner?: ImageResizer, { closed = true } = {}) {
    this.#inner = inner;
    this.held = new Promise<void>((resolve) => (this.#signalHeld = resolve));
    if (closed) this.close();
  }

  close(): void {
    this.#gate = new Promise<void>((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open();
    this.#gate = undefined;
  }

  async resize(original: Uint8Array, request: ResizeRequest): Promise<Uint8Array> {
    this.calls.push(request);
    if (this.#gate !== undefined) {
      this.#signalHeld();
      await this.#gate;
    }
    return this.#inner ? this.#inner.resize(original, request) : Buffer.concat([Buffer.from(`${request.mediaType}:${request.width}:`), original]);
  }
}
