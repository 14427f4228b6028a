import type { ImageStoreKind } from '../core/config.js';
import type { MigrationProgress, MigrationSummary } from '../service/storage/index.js';

/** Where progress goes: a terminal gets a redrawn bar, anything else plain lines. */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const LINE_EVERY = 100;

/**
 * Renders `storage migrate` progress: on a terminal one bar redrawn in place after every image, otherwise
 * (a log file, a pipe, CI) one line per 100 images and one per failure, so logs stay short and greppable.
 */
export function progressReporter(out: ProgressOutput, to: ImageStoreKind): { update(progress: MigrationProgress): void; end(): void } {
  let drawn = false;
  let failed = 0;
  return {
    update(progress) {
      if (progress.outcome === 'failed') failed += 1;
      if (out.isTTY) {
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 50));
        const filled = Math.round((progress.done / Math.max(progress.total, 1)) * width);
        const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
        out.write(`\r\x1b[2K[${bar}] ${progress.done}/${progress.total} to ${to}${failed ? `, ${failed} failed` : ''}`);
        drawn = true;
        if (progress.outcome === 'failed') out.write(`\n${progress.guid}: ${progress.reason}\n`);
        return;
      }
      if (progress.outcome === 'failed') out.write(`failed ${progress.guid}: ${progress.reason}\n`);
      if (progress.done % LINE_EVERY === 0 || progress.done === progress.total) {
        out.write(`${progress.done}/${progress.total} images looked at${failed ? `, ${failed} failed` : ''}\n`);
      }
    },
    end() {
      if (drawn) out.write('\n');
    },
  };
}

/** The closing summary, one fact per line. */
export function formatSummary(summary: MigrationSummary): string {
  const lines = [
    `copied to ${summary.to} and verified (sha-256): ${summary.copied}`,
    `already in ${summary.to}: ${summary.alreadyThere}`,
    `deleted while copying: ${summary.gone}`,
    `failed: ${summary.failed.length}`,
    ...summary.failed.map((failure) => `  ${failure.guid}: ${failure.reason}`),
  ];
  if (summary.copied > 0) lines.push('the old copies stay until `pixyproxy doctor` removes them (they have no row any more)');
  return `${lines.join('\n')}\n`;
}
