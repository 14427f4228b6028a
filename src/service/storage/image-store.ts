import type { Readable } from 'node:stream';
import type { ImageStoreKind } from '../../core/models/image.js';

export interface StoredFile {
  /** Bytes. */
  size: number;
  /** When the bytes were written (file mtime, S3 `Last-Modified`); the sweep's measure of age. */
  modifiedAt: Date;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end` (RFC 9110 14.1.2). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where image bytes live: the local file store or an S3 bucket. Keys come from `keyFor(filename)`,
 * with filenames chosen by the service (`{guid}.png`), never by clients; a row records the key and
 * the store's kind. Every store passes the same contract suite (test/service/storage/).
 */
export interface ImageStore {
  /** What a row records in `object_store` for bytes kept here. */
  readonly kind: ImageStoreKind;
  /** The key a generated filename is stored under (the S3 store prepends S3_PREFIX). @throws Error for an unsafe name */
  keyFor(filename: string): string;
  /** Writes all bytes or nothing: a reader never sees a partial object, a crash leaves no partial object. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Opens the bytes (or one range) for streaming, never buffering them whole; undefined when missing. */
  open(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /** Size and write time; undefined when missing. */
  stat(key: string): Promise<StoredFile | undefined>;
  /** True when something was removed. */
  remove(key: string): Promise<boolean>;
  /** Every stored image key, for the orphan sweep. */
  list(): AsyncIterable<string>;
  /** Leftovers of writes that never finished (a crash between temp file and rename), for the sweep. */
  listTemporary(): AsyncIterable<StoredTemporary>;
  /** Removes one such leftover; true when something was removed. */
  removeTemporary(name: string): Promise<boolean>;
  /** Whether the store can be used right now (directory or bucket reachable), for `/ready`. */
  ping(): Promise<void>;
  /** A presigned GET URL, when the store can mint one (S3); minted locally, valid `expiresInSeconds`. */
  presignGet?(key: string, options: { expiresInSeconds: number; contentType: string; cacheControl: string }): Promise<string>;
  /** Releases connections, if the store holds any. */
  close?(): void;
}

export interface StoredTemporary {
  name: string;
  modifiedAt: Date;
}
