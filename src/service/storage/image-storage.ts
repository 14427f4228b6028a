import type { Readable } from 'node:stream';
import type { ImageStoreKind } from '../../core/models/image.js';
import { InternalServerError, ObjectStoreUnavailableError } from '../../core/errors.js';
import type { ObjectLocation } from '../../core/models/image.js';
import type { ByteRange, ImageStore } from './image-store.js';

/**
 * The storage room's one door: writes go to the configured store, reads and deletes go to the store a
 * row names (`object_store`), so rows written before IMAGE_STORE changed stay readable.
 */
export class ImageStorage {
  readonly #stores: ReadonlyMap<ImageStoreKind, ImageStore>;
  readonly #writeTo: ImageStore;

  /**
   * @param stores every store this process can reach (the file store always; S3 when S3_BUCKET is set)
   * @param writeTo the kind new bytes go to (`IMAGE_STORE`); must be among `stores`
   */
  constructor(stores: readonly ImageStore[], writeTo: ImageStoreKind) {
    this.#stores = new Map(stores.map((store) => [store.kind, store]));
    const writer = this.#stores.get(writeTo);
    if (writer === undefined) throw new Error(`no ${writeTo} store configured`);
    this.#writeTo = writer;
  }

  /** The kind new bytes are written to. */
  get writeKind(): ImageStoreKind {
    return this.#writeTo.kind;
  }

  /** The stores this process can reach, the write store first (for the sweep and `/ready`). */
  get stores(): readonly ImageStore[] {
    return [this.#writeTo, ...[...this.#stores.values()].filter((store) => store !== this.#writeTo)];
  }

  /**
   * The store a row names. @throws InternalServerError when this process has no such store configured
   * (a row in S3 on an instance without S3_BUCKET): a deployment fault, logged with the cause.
   */
  storeFor(kind: ImageStoreKind): ImageStore {
    const store = this.#stores.get(kind);
    if (store === undefined) {
      throw new InternalServerError('An unexpected error occurred', {
        cause: new Error(`an image row names the ${kind} store, which this process has not configured`),
      });
    }
    return store;
  }

  /**
   * Writes the bytes to the configured store and answers where they are. Acknowledged only once the
   * store has them whole (fsync + rename, or an S3 PUT verified by Content-MD5).
   * @throws ObjectStoreUnavailableError when the object store is down or slow (503)
   */
  async put(filename: string, bytes: Uint8Array): Promise<ObjectLocation> {
    const objectKey = this.#writeTo.keyFor(filename);
    await this.#writeTo.put(objectKey, bytes);
    return { object_store: this.#writeTo.kind, object_key: objectKey };
  }

  /** Streams the bytes (or one range) from the row's store; undefined when they are missing. */
  open(location: ObjectLocation, range?: ByteRange): Promise<Readable | undefined> {
    return this.storeFor(location.object_store).open(location.object_key, range);
  }

  /** True when the bytes were there and are now removed. */
  remove(location: ObjectLocation): Promise<boolean> {
    return this.storeFor(location.object_store).remove(location.object_key);
  }

  /**
   * A presigned GET URL for bytes in a store that can mint one (S3), or undefined (the file store):
   * then the caller streams instead. Minted per call and never stored.
   */
  async presignGet(
    location: ObjectLocation,
    options: { expiresInSeconds: number; contentType: string; cacheControl: string },
  ): Promise<string | undefined> {
    const store = this.storeFor(location.object_store);
    return store.presignGet === undefined ? undefined : store.presignGet(location.object_key, options);
  }

  /**
   * Whether every configured store answers (the S3 bucket exists and these credentials may use it).
   * @throws ObjectStoreUnavailableError naming the store that failed
   */
  async ping(): Promise<void> {
    for (const store of this.stores) {
      try {
        await store.ping();
      } catch (error) {
        if (error instanceof ObjectStoreUnavailableError) throw error;
        throw new ObjectStoreUnavailableError(`The ${store.kind} image store is not usable`, { cause: error });
      }
    }
  }

  /** Releases the stores' connections. */
  close(): void {
    for (const store of this.#stores.values()) store.close?.();
  }
}
