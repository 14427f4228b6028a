import type { ImageRepository } from '../../data/image-repository.js';
import type { ImageStore } from './image-store.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';

/**
 * A create writes the bytes, then commits the row. A crash between the two leaves an object no row
 * names (and a crash mid-write to the file store leaves a `.tmp-*` file). Both are safe to delete once
 * they are older than any create could still be in flight, on this instance or any other writing to
 * the same store; a create in flight, by contrast, must keep its bytes. Never less than this.
 */
export const DEFAULT_SWEEP_GRACE_MS = 5 * 60_000;
/** Added to the longest a create may take: clock skew between instances and the store, scheduling. */
const SWEEP_MARGIN_MS = 60_000;
const BATCH = 500;

/**
 * The sweep's grace period: the longest a create may take from writing its bytes to committing its
 * row (the generation deadline, one store call, one database call) plus a margin, and at least
 * DEFAULT_SWEEP_GRACE_MS. All in milliseconds.
 */
export function sweepGraceMs(limits: { generationTimeoutMs: number; storeTimeoutMs: number; databaseTimeoutMs: number }): number {
  const longestCreate = limits.generationTimeoutMs + limits.storeTimeoutMs + limits.databaseTimeoutMs;
  return Math.max(DEFAULT_SWEEP_GRACE_MS, longestCreate + SWEEP_MARGIN_MS);
}

export interface SweepReport {
  /** Image objects (files or S3 keys) looked at, in every store. */
  scanned: number;
  /** Objects without a row and older than the grace period. */
  orphans: number;
  /** Objects without a row but younger than the grace period: possibly a create in flight, kept. */
  recent: number;
  /** Orphans (and temp files) actually deleted; 0 on a dry run. */
  removed: number;
  /** Leftover `.tmp-*` files older than the grace period. */
  temporary: number;
  /** The grace period used, in milliseconds. */
  graceMs: number;
}

export interface OrphanSweeperDeps {
  /** Every store this process can reach; each is swept against the rows that name it. */
  stores: readonly ImageStore[];
  images: Pick<ImageRepository, 'existingObjectKeys'>;
  graceMs?: number;
  now?: () => number;
  log?: ServiceLogger;
}

/**
 * Deletes stored objects whose row never committed; never one that a row names, nor one younger than
 * the grace period. Safe with many writers: the age guard covers creates in flight anywhere, and the
 * row is looked up once more right before each delete.
 */
export class OrphanSweeper {
  readonly #stores: readonly ImageStore[];
  readonly #images: Pick<ImageRepository, 'existingObjectKeys'>;
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #log: ServiceLogger;

  constructor(deps: OrphanSweeperDeps) {
    this.#stores = deps.stores;
    this.#images = deps.images;
    this.#graceMs = deps.graceMs ?? DEFAULT_SWEEP_GRACE_MS;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.log ?? silentLogger;
  }

  /** The configured grace period in milliseconds. */
  get graceMs(): number {
    return this.#graceMs;
  }

  /**
   * Sweeps every store. @param options.graceMs overrides the grace period (`doctor --grace-seconds`), for
   * when no create can be in flight anywhere. @throws ObjectStoreUnavailableError, DBConnectionError
   */
  async sweep(options: { dryRun?: boolean; graceMs?: number } = {}): Promise<SweepReport> {
    const dryRun = options.dryRun ?? false;
    const graceMs = options.graceMs ?? this.#graceMs;
    const report: SweepReport = { scanned: 0, orphans: 0, recent: 0, removed: 0, temporary: 0, graceMs };
    for (const store of this.#stores) {
      let batch: string[] = [];
      for await (const key of store.list()) {
        batch.push(key);
        if (batch.length >= BATCH) {
          await this.#sweepBatch(store, batch, { dryRun, graceMs }, report);
          batch = [];
        }
      }
      if (batch.length > 0) await this.#sweepBatch(store, batch, { dryRun, graceMs }, report);

      const cutoff = this.#now() - graceMs;
      for await (const temp of store.listTemporary()) {
        if (temp.modifiedAt.getTime() > cutoff) continue;
        report.temporary += 1;
        if (!dryRun && (await store.removeTemporary(temp.name))) report.removed += 1;
      }
    }
    return report;
  }

  async #sweepBatch(store: ImageStore, keys: string[], options: { dryRun: boolean; graceMs: number }, report: SweepReport): Promise<void> {
    report.scanned += keys.length;
    const withRow = await this.#images.existingObjectKeys(store.kind, keys);
    for (const key of keys) {
      if (withRow.has(key)) continue;
      const stored = await store.stat(key);
      if (stored === undefined) continue;
      if (stored.modifiedAt.getTime() > this.#now() - options.graceMs) {
        report.recent += 1;
        continue;
      }
      report.orphans += 1;
      if (options.dryRun) continue;
      // The row may have committed since the batch was checked: look again right before deleting.
      if ((await this.#images.existingObjectKeys(store.kind, [key])).has(key)) {
        report.orphans -= 1;
        continue;
      }
      if (await store.remove(key)) {
        report.removed += 1;
        this.#log.info({ store: store.kind, key }, 'removed image bytes that no row refers to');
      }
    }
  }
}
