import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, inject } from 'vitest';
import { FileImageStore, type ImageStore } from '../../src/service/storage/index.js';
import { S3ImageStore } from '../../src/service/storage/s3/s3-image-store.js';
import { createTestBucket, type TestBucket } from './object-store.js';

/** A fresh, empty store of one kind. */
export interface OpenedStore {
  store: ImageStore;
  /** The key a generated filename is stored under (the S3 store adds its prefix). */
  keyFor(filename: string): string;
  /** The file store's directory (undefined for S3), for arranging leftovers of interrupted writes. */
  dir?: string;
  close(): Promise<void>;
}

export interface StoreKind {
  name: 'file' | 's3';
  /** False when no S3 server is available (the global setup has said so loudly). */
  available: boolean;
  open(): Promise<OpenedStore>;
}

const objectStore = inject('objectStore');
/** Generous for a loaded machine; the timeout tests set their own short bound. */
export const TEST_STORE_TIMEOUT_MS = 15_000;

export const FILE_STORE: StoreKind = {
  name: 'file',
  available: true,
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-store-'));
    return {
      store: new FileImageStore(dir),
      keyFor: (filename) => filename,
      dir,
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

/** Opens an S3 store on a new bucket of the run's S3 server. */
export async function openS3Store(prefix = 'images/'): Promise<OpenedStore & { bucket: TestBucket; s3: S3ImageStore }> {
  const bucket = await createTestBucket(objectStore, prefix);
  const s3 = new S3ImageStore({ ...bucket.s3, credentials: bucket.credentials, timeoutMs: TEST_STORE_TIMEOUT_MS });
  return {
    store: s3,
    s3,
    bucket,
    keyFor: (filename) => s3.keyFor(filename),
    async close() {
      s3.close();
      await bucket.destroy();
    },
  };
}

export const S3_STORE: StoreKind = {
  name: 's3',
  available: objectStore.endpoint !== '',
  open: () => openS3Store(),
};

export const STORE_KINDS: readonly StoreKind[] = [FILE_STORE, S3_STORE];

/** The S3 server of this run; `endpoint` is '' when the S3 suites are skipped. */
export const objectStoreServer = objectStore;

/** Declares the same suite once per store: `on the file store > ...` and `on the s3 store > ...`. */
export function describeEachStore(body: (kind: StoreKind) => void): void {
  for (const kind of STORE_KINDS) describe.skipIf(!kind.available)(`on the ${kind.name} store`, () => body(kind));
}

/** Declares a suite that needs the S3 server (skipped, loudly, when there is none). */
export const describeS3: typeof describe = describe.skipIf(!S3_STORE.available) as typeof describe;
