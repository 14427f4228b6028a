/**
 * The storage room: where image bytes live (the `ImageStore` port), the file-system store, the S3 store,
 * the `ImageStorage` door that routes each row to its store, the sweep that removes bytes whose row never
 * committed, and the migration between stores. The rest of the code imports this file only.
 */
export type { ByteRange, ImageStore, StoredFile, StoredTemporary } from './image-store.js';
export { ContentCache } from './content-cache.js';
export { FileImageStore } from './file-image-store.js';
export type { S3ImageStore, S3ImageStoreOptions } from './s3/s3-image-store.js';
export { openS3ImageStore } from './s3/open-s3-image-store.js';
export { ImageStorage } from './image-storage.js';
export { DEFAULT_SWEEP_GRACE_MS, OrphanSweeper, sweepGraceMs, type OrphanSweeperDeps, type SweepReport } from './orphan-sweeper.js';
export {
  StorageMigration,
  type ImageLocationRepository,
  type ImageLocationRow,
  type MigrationProgress,
  type MigrationSummary,
} from './storage-migration.js';
export {
  ImageVariants,
  THUMBNAIL_WIDTHS,
  isThumbnailWidth,
  originalKeyOf,
  variantMediaTypeFor,
  type PreparedVariant,
  type ThumbnailWidth,
  type VariantLimits,
  type VariantSource,
} from './image-variants.js';
export { ImageTooLargeError, type ImageResizer, type ResizeRequest, type VariantMediaType } from './image-resizer.js';
export { SharpResizer } from './sharp/sharp-resizer.js';
