/**
 * The storage room: where image bytes live (the `ImageStore` port), the file-system store, and the
 * sweep that removes bytes whose row never committed. The rest of the code imports this file only.
 */
export type { ByteRange, ImageStore, StoredFile, StoredTemporary } from './image-store.js';
export { FileImageStore } from './file-image-store.js';
export { DEFAULT_SWEEP_GRACE_MS, OrphanSweeper, type OrphanSweeperDeps, type SweepReport } from './orphan-sweeper.js';
