import type { ImageStore } from '../image-store.js';
import type { S3ImageStoreOptions } from './s3-image-store.js';

/**
 * A new S3ImageStore, with the AWS SDK loaded only here: a server without S3_BUCKET never pays for
 * loading it at start-up (the SDK is one of the largest module trees the server would compile).
 */
export async function openS3ImageStore(options: S3ImageStoreOptions): Promise<ImageStore> {
  const { S3ImageStore } = await import('./s3-image-store.js');
  return new S3ImageStore(options);
}
