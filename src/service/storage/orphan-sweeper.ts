import type { ImageRepository } from '../../data/image-repository.js';
import type { ImageStore } from './image-store.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';

/**
 * A create writes the bytes, then commits the row. A crash between the two leaves a file no row
 * points at (and a crash mid-write leaves a `.tmp-*` file). Both are safe to delete once they are
 * older than any create could still be in flight; a create in flight, by contrast, must keep its file.
 */
export const DEFAULT_SWEEP_GRACE_MS = 5 * 60_000;
const BATCH = 500;

export interface SweepReport {
  /** Image files looked at. */
  scanned: number;
  /** Files without a row and older than the grace period. */
  orphans: number;
  /** Files without a row but younger than the grace period: possibly a create in flight, kept. */
  recent: number;
  /** Orphans (and temp files) actually deleted; 0 on a dry run. */
  removed: number;
  /** Leftover `.tmp-*` files older than the grace period. */
  temporary: number;
}

export interface OrphanSweeperDeps {
  store: ImageStore;
  images: ImageRepository;
  graceMs?: number;
  now?: () => number;
  log?: ServiceLogger;
}

/** Deletes stored files whose row never committed; never a file that has a row. */
export class OrphanSweeper {
  readonly #store: ImageStore;
  readonly #images: ImageRepository;
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #log: ServiceLogger;

  constructor(deps: OrphanSweeperDeps) {
    this.#store = deps.store;
    this.#images = deps.images;
    this.#graceMs = deps.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.log ?? silentLogger;
  }

  async sweep(options: { dryRun?: boolean } = {}): Promise<SweepReport> {
    const dryRun = options.dryRun ?? false;
    const report: SweepReport = { scanned: 0, orphans: 0, recent: 0, removed: 0, temporary: 0 };
    let batch: string[] = [];
    for await (const filename of this.#store.list()) {
      batch.push(filename);
      if (batch.length >= BATCH) {
        await this.#sweepBatch(batch, dryRun, report);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#sweepBatch(batch, dryRun, report);

    const cutoff = this.#now() - this.#graceMs;
    for await (const temp of this.#store.listTemporary()) {
      if (temp.modifiedAt.getTime() > cutoff) continue;
      report.temporary += 1;
      if (!dryRun && (await this.#store.removeTemporary(temp.name))) report.removed += 1;
    }
    return report;
  }

  async #sweepBatch(filenames: string[], dryRun: boolean, report: SweepReport): Promise<void> {
    report.scanned += filenames.length;
    const withRow = await this.#images.existingFilenames(filenames);
    for (const filename of filenames) {
      if (withRow.has(filename)) continue;
      const stored = await this.#store.stat(filename);
      if (stored === undefined) continue;
      if (stored.modifiedAt.getTime() > this.#now() - this.#graceMs) {
        report.recent += 1;
        continue;
      }
      report.orphans += 1;
      if (dryRun) continue;
      // The row may have committed since the batch was checked: look again right before deleting.
      if ((await this.#images.existingFilenames([filename])).has(filename)) {
        report.orphans -= 1;
        continue;
      }
      if (await this.#store.remove(filename)) {
        report.removed += 1;
        this.#log.info({ filename }, 'removed an image file that no row refers to');
      }
    }
  }
}
