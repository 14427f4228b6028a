import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { ImageStoreKind, ObjectLocation } from '../../core/models/image.js';
import type { ImageLocationRow, ImageRepository } from '../../data/image-repository.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';
import type { ImageStorage } from './image-storage.js';

/** The catalogue queries the migration needs. */
export type ImageLocationRepository = Pick<ImageRepository, 'listNotInStore' | 'moveLocation' | 'locationOf' | 'countByStore'>;
export type { ImageLocationRow };

export type MigrationOutcome = 'copied' | 'failed' | 'gone';

export interface MigrationProgress {
  /** Images looked at so far, and how many needed moving when the run started. */
  done: number;
  total: number;
  guid: string;
  outcome: MigrationOutcome;
  /** Why an image failed (its bytes are missing or do not match their sha-256). */
  reason?: string;
}

export interface MigrationSummary {
  to: ImageStoreKind;
  /** Images whose bytes were copied, verified and whose row now names the new store. */
  copied: number;
  /** Images already in the target store when the run started (earlier runs, or written there). */
  alreadyThere: number;
  /** Images deleted while the run went on; their copy was removed again. */
  gone: number;
  failed: Array<{ guid: string; reason: string }>;
}

const BATCH = 100;

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * `pixyproxy storage migrate --to s3|file`: copies every image's bytes to the other store, one image at
 * a time: read from the row's store, check the sha-256 the row records, write to the target under the
 * same filename, read the copy back and check it again, then move the row with a compare-and-set.
 *
 * Safe to interrupt and run again: rows already moved are skipped, and a copy whose row was not moved
 * yet is simply written again under the same key, so nothing is duplicated. The old bytes stay where
 * they were (a reader that looked up the row a moment ago may still be streaming them); no row names
 * them any more, so `pixyproxy doctor` removes them once they are older than its grace period.
 */
export class StorageMigration {
  readonly #storage: ImageStorage;
  readonly #images: ImageLocationRepository;
  readonly #log: ServiceLogger;

  constructor(deps: { storage: ImageStorage; images: ImageLocationRepository; log?: ServiceLogger }) {
    this.#storage = deps.storage;
    this.#images = deps.images;
    this.#log = deps.log ?? silentLogger;
  }

  /**
   * Moves every image to `to`. @param onProgress called after each image. @throws
   * InternalServerError when `to` is not configured; ObjectStoreUnavailableError / DBConnectionError when
   * a store or the database fails (the run stops; running it again resumes).
   */
  async migrate(to: ImageStoreKind, onProgress: (progress: MigrationProgress) => void = () => {}): Promise<MigrationSummary> {
    const target = this.#storage.storeFor(to);
    const counts = await this.#images.countByStore();
    const total = Object.entries(counts).reduce((sum, [kind, count]) => sum + (kind === to ? 0 : (count ?? 0)), 0);
    const summary: MigrationSummary = { to, copied: 0, alreadyThere: counts[to] ?? 0, gone: 0, failed: [] };
    let done = 0;
    let after: string | undefined;
    for (;;) {
      const rows = await this.#images.listNotInStore(to, after, BATCH);
      if (rows.length === 0) break;
      for (const row of rows) {
        after = row.guid;
        const result = await this.#moveOne(row, to, target.keyFor(row.filename));
        if (result.outcome === 'copied') summary.copied += 1;
        else if (result.outcome === 'gone') summary.gone += 1;
        else summary.failed.push({ guid: row.guid, reason: result.reason ?? 'unknown' });
        done += 1;
        onProgress({ done, total: Math.max(total, done), guid: row.guid, ...result });
      }
    }
    return summary;
  }

  async #moveOne(row: ImageLocationRow, to: ImageStoreKind, targetKey: string): Promise<{ outcome: MigrationOutcome; reason?: string }> {
    const stream = await this.#storage.open(row.location);
    if (stream === undefined) return { outcome: 'failed', reason: `bytes missing from the ${row.location.object_store} store` };
    // One image at a time is held in memory: the hash must be checked before anything is written.
    const bytes = await buffer(stream);
    if (sha256Of(bytes) !== row.sha256) {
      return { outcome: 'failed', reason: `the ${row.location.object_store} store's bytes do not match the recorded sha-256` };
    }
    const target: ObjectLocation = { object_store: to, object_key: targetKey };
    await this.#storage.storeFor(to).put(targetKey, bytes);
    const copy = await this.#storage.open(target);
    if (copy === undefined || sha256Of(await buffer(copy)) !== row.sha256) {
      return { outcome: 'failed', reason: `the copy in the ${to} store does not match the recorded sha-256` };
    }
    if (await this.#images.moveLocation(row.guid, row.location, target)) return { outcome: 'copied' };
    // The row changed under us: moved here by a concurrent run (keep the copy), or deleted (remove it).
    const now = await this.#images.locationOf(row.guid);
    if (now?.object_store === to && now.object_key === targetKey) return { outcome: 'copied' };
    if (now !== undefined) return { outcome: 'failed', reason: 'the row moved to another location during the copy' };
    this.#log.warn({ guid: row.guid }, 'image deleted while its bytes were being copied; removing the copy');
    await this.#storage.remove(target).catch(() => false);
    return { outcome: 'gone' };
  }
}
