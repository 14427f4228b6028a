import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ConcurrencyGate } from '../../core/concurrency-gate.js';
import { InternalServerError, ServiceUnavailableError } from '../../core/errors.js';
import type { ObjectLocation } from '../../core/models/image.js';
import type { ByteRange } from './image-store.js';
import type { ImageStorage } from './image-storage.js';
import { ImageTooLargeError, type ImageResizer, type VariantMediaType } from './image-resizer.js';

/** The widths `GET /image/{guid}/content?w=` accepts (docs/API.md), smallest first. */
export const THUMBNAIL_WIDTHS = [128, 256, 512, 1024] as const;
export type ThumbnailWidth = (typeof THUMBNAIL_WIDTHS)[number];

export function isThumbnailWidth(width: number): width is ThumbnailWidth {
  return (THUMBNAIL_WIDTHS as readonly number[]).includes(width);
}

/**
 * Bumped whenever the resize or encoder settings change, so a variant made differently gets a
 * different entity tag (and file name) instead of reusing a strong ETag for other bytes.
 */
export const VARIANT_ENCODING_VERSION = 1;

const EXTENSIONS: Record<VariantMediaType, string> = {
  'image/avif': 'avif',
  'image/webp': 'webp',
  'image/png': 'png',
  'image/jpeg': 'jpg',
};
/**
 * `{original object key}.w{width}.v{version}.{ext}`: the original's key first, so its owner is plain.
 * A variant lives in the same store as its original (file or S3), under the same prefix.
 */
const VARIANT_NAME = /^(.+)\.w(\d+)\.v\d+\.(avif|webp|png|jpg)$/;

/** The original's object key for a variant's, or undefined for a key that is not a variant. */
export function originalKeyOf(key: string): string | undefined {
  return VARIANT_NAME.exec(key)?.[1];
}

/** The media types a variant of an original in `contentType` may be encoded in, best first. */
export function variantMediaTypeFor(contentType: string): VariantMediaType {
  return contentType === 'image/jpeg' ? 'image/jpeg' : 'image/png';
}

/** What identifies the original a variant is made from (a subset of the content info). */
export interface VariantSource extends ObjectLocation {
  guid: string;
  /** Hex sha-256 of the original's bytes. */
  sha256: string;
}

/** A variant ready to serve. */
export interface PreparedVariant {
  byteSize: number;
  /** Streams the bytes, or one inclusive range of them. */
  open(range?: ByteRange): Promise<Readable>;
}

export interface VariantLimits {
  /** Resizes running at once (THUMBNAIL_CONCURRENCY). */
  concurrency: number;
  /** Resizes allowed to wait for a slot (THUMBNAIL_QUEUE); beyond it, 503 with Retry-After. */
  queue: number;
}

const RETRY_AFTER_SECONDS = 2;

/**
 * Thumbnails and format variants of stored images: made once, on first request, with the resizer,
 * and kept in the image store beside the original (so they survive restarts and every instance
 * sharing the store shares them). Concurrent requests for the same variant share one resize; at
 * most `concurrency` resizes run, `queue` more wait, and past that the caller gets 503.
 */
export class ImageVariants {
  readonly #storage: ImageStorage;
  readonly #resizer: ImageResizer;
  readonly #gate: ConcurrencyGate;
  readonly #inFlight = new Map<string, Promise<Uint8Array>>();

  constructor(storage: ImageStorage, resizer: ImageResizer, limits: VariantLimits) {
    this.#storage = storage;
    this.#resizer = resizer;
    this.#gate = new ConcurrencyGate(limits);
  }

  /** Every location a variant of the original at `location` can have, for deleting an image with its variants. */
  static locationsOf(location: ObjectLocation): ObjectLocation[] {
    const types = Object.keys(EXTENSIONS) as VariantMediaType[];
    return THUMBNAIL_WIDTHS.flatMap((width) =>
      types.map((type) => ({ object_store: location.object_store, object_key: variantKey(location.object_key, width, type) })),
    );
  }

  /**
   * The variant's strong entity tag as a hex digest: derived from the original's sha-256, the
   * width, the media type and the encoding version, so it is known (and a 304 answered) before the
   * variant is read or made. The same inputs always yield the same bytes from the same encoder.
   */
  entityDigest(source: VariantSource, width: ThumbnailWidth, mediaType: VariantMediaType): string {
    return createHash('sha256').update(`${source.sha256}|w${width}|${mediaType}|v${VARIANT_ENCODING_VERSION}`).digest('hex');
  }

  /**
   * Finds the stored variant or makes it (and stores it).
   * @throws ServiceUnavailableError (503, Retry-After) when the resize queue is full.
   * @throws InternalServerError when the original is missing from the store or over the pixel cap.
   */
  async prepare(source: VariantSource, width: ThumbnailWidth, mediaType: VariantMediaType): Promise<PreparedVariant> {
    // In the original's store (the row's object_store), so variants work wherever the original is.
    const store = this.#storage.storeFor(source.object_store);
    const key = variantKey(source.object_key, width, mediaType);
    const stored = await store.stat(key);
    if (stored !== undefined) {
      return {
        byteSize: stored.size,
        open: async (range) => {
          const stream = await store.open(key, range);
          if (stream === undefined) throw missing(source, key);
          return stream;
        },
      };
    }
    const flightKey = `${source.object_store}:${key}`;
    let making = this.#inFlight.get(flightKey);
    if (making === undefined) {
      making = this.#make(source, key, width, mediaType).finally(() => this.#inFlight.delete(flightKey));
      this.#inFlight.set(flightKey, making);
    }
    const bytes = await making;
    return {
      byteSize: bytes.length,
      open: async (range) => Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(range?.start ?? 0, range ? range.end + 1 : undefined)]),
    };
  }

  async #make(source: VariantSource, key: string, width: ThumbnailWidth, mediaType: VariantMediaType): Promise<Uint8Array> {
    await this.#gate.acquire(
      () => new ServiceUnavailableError('Too many thumbnails are being made right now; try again shortly', { retryAfterSeconds: RETRY_AFTER_SECONDS }),
    );
    try {
      const original = await this.#readOriginal(source);
      let bytes: Uint8Array;
      try {
        bytes = await this.#resizer.resize(original, { width, mediaType });
      } catch (error) {
        const detail = error instanceof ImageTooLargeError ? 'This image is too large to make a thumbnail of' : 'The thumbnail could not be made';
        throw new InternalServerError(detail, { cause: error });
      }
      // Written whole and atomically: a reader never sees half a variant, and two instances making
      // the same one write the same bytes.
      await this.#storage.storeFor(source.object_store).put(key, bytes);
      return bytes;
    } finally {
      this.#gate.release();
    }
  }

  async #readOriginal(source: VariantSource): Promise<Uint8Array> {
    const stream = await this.#storage.open(source);
    if (stream === undefined) throw missing(source, source.object_key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

function variantKey(originalKey: string, width: number, mediaType: VariantMediaType): string {
  return `${originalKey}.w${width}.v${VARIANT_ENCODING_VERSION}.${EXTENSIONS[mediaType]}`;
}

function missing(source: VariantSource, key: string): InternalServerError {
  return new InternalServerError('An unexpected error occurred', {
    cause: new Error(`the bytes of image ${source.guid} (${source.object_store}:${key}) are missing from the store`),
  });
}
