import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fillImages } from '../scripts/fill-images.js';
import { noisePng, ONE_MIB_SIDE } from '../scripts/noise-png.js';
import type { DatabaseConfig } from '../src/core/config.js';
import { SqlImageRepository } from '../src/data/image-repository.js';
import { migrate } from '../src/data/migrator.js';
import { openDatabase } from '../src/data/open-database.js';
import { PrivateImageService } from '../src/service/images/index.js';
import { FileImageStore, ImageStorage } from '../src/service/storage/index.js';

/** What the cases need to know about a prepared database. */
export interface BenchData {
  /** Environment that points `pixyproxy serve` at this database and image directory. */
  env: Record<string, string>;
  rows: number;
  /** Guids of synthetic rows, for the detail case. */
  guids: string[];
  /** The one real image, with its bytes in the store: a 1 MiB noise PNG. */
  content?: { guid: string; etag: string; bytes: Buffer };
}

export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

function serverEnv(database: DatabaseConfig, url: string, dir: string): Record<string, string> {
  return {
    DATA_DIR: dir,
    IMAGE_DIR: join(dir, 'images'),
    DATABASE_URL: database.kind === 'sqlite' ? `sqlite:${database.file}` : url,
    PIXYPROXY_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
    IMAGE_GENERATOR: 'local',
  };
}

async function countRows(database: DatabaseConfig): Promise<number> {
  const db = await openDatabase(database);
  try {
    await migrate(db);
    return Number((await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM image'))?.n ?? 0);
  } finally {
    await db.close();
  }
}

async function sampleGuids(database: DatabaseConfig, limit: number): Promise<string[]> {
  const db = await openDatabase(database);
  try {
    const rows = await db.all<{ guid: string }>("SELECT guid FROM image WHERE model = 'synthetic' ORDER BY id LIMIT :limit", { limit });
    return rows.map((row) => row.guid);
  } finally {
    await db.close();
  }
}

/** Adds the 1 MiB image through the real create path (store put + fsync, then the row). */
async function addContentImage(database: DatabaseConfig, imageDir: string): Promise<NonNullable<BenchData['content']>> {
  const bytes = noisePng(ONE_MIB_SIDE, ONE_MIB_SIDE, 'bench content');
  const db = await openDatabase(database);
  try {
    const generator = {
      name: 'noise',
      generate: async () => ({ bytes, contentType: 'image/png' as const, extension: 'png' as const, width: ONE_MIB_SIDE, height: ONE_MIB_SIDE, model: 'noise', revisedPrompt: null, quality: null, background: null, outputFormat: 'png' as const, usage: null }),
    };
    const service = new PrivateImageService({ images: new SqlImageRepository(db), storage: new ImageStorage([new FileImageStore(imageDir)], 'file'), generator });
    const author = { username: 'admin', is_admin: true, created_at: new Date().toISOString() };
    const detail = await service.create(author, { prompt: 'benchmark content image', tags: ['bench'], options: {} });
    const record = await new SqlImageRepository(db).findByGuid(detail.guid);
    return { guid: detail.guid, etag: `"${record!.sha256}"`, bytes };
  } finally {
    await db.close();
  }
}

/**
 * A database of `rows` synthetic images. `reuse` keeps it between runs (a large fill is paid once):
 * it is refilled only when it holds fewer rows. Otherwise it is rebuilt, with the content image.
 */
export async function prepareData(options: {
  dir: string;
  database: DatabaseConfig;
  databaseUrl: string;
  rows: number;
  reuse: boolean;
  log: (line: string) => void;
}): Promise<BenchData> {
  const { dir, database, rows } = options;
  if (!options.reuse) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const have = existsSync(dir) ? await countRows(database) : 0;
  if (have < rows) {
    options.log(`filling ${rows - have} synthetic rows into ${options.databaseUrl} ...`);
    const report = await fillImages(database, rows - have);
    options.log(`  filled in ${report.seconds.toFixed(1)} s`);
  }
  const content = options.reuse ? undefined : await addContentImage(database, join(dir, 'images'));
  return {
    env: serverEnv(database, options.databaseUrl, dir),
    rows,
    guids: await sampleGuids(database, 1000),
    ...(content && { content }),
  };
}
