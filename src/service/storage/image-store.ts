import type { Readable } from 'node:stream';

export interface StoredFile {
  size: number;
  modifiedAt: Date;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where image bytes live. Filenames are chosen by the service (`{guid}.png`), never by clients. */
export interface ImageStore {
  /** Writes all bytes or nothing: a reader never sees a partial file, a crash leaves no partial file. */
  put(filename: string, bytes: Uint8Array): Promise<void>;
  /** Opens the bytes for streaming; undefined when the file is missing. */
  open(filename: string, range?: ByteRange): Promise<Readable | undefined>;
  stat(filename: string): Promise<StoredFile | undefined>;
  /** True when a file was removed. */
  remove(filename: string): Promise<boolean>;
  /** Every stored filename, for the orphan sweep. */
  list(): AsyncIterable<string>;
  /** Leftovers of writes that never finished (a crash between temp file and rename), for the sweep. */
  listTemporary(): AsyncIterable<StoredTemporary>;
  /** Removes one such leftover; true when a file was removed. */
  removeTemporary(name: string): Promise<boolean>;
}

export interface StoredTemporary {
  name: string;
  modifiedAt: Date;
}
