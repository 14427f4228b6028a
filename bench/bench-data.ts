import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fillImages } from '../scripts/fill-images.js';
import { noisePng, ONE_MIB_SIDE } from '../scripts/noise-png.js';
import type { DatabaseConfig } from '../src/core/config.js';
import { SqlImageRepository } from '../src/data/image-repository.js';
import { migrate } from '../src/data/migrator.js';
import { openDatabase } from '../src/data/open-database.js';
import { fromSqlTime } from '../src/data/sql-time.js';
import { LocalImageGenerator } from '../src/service/generation/index.js';
import { encodeCursor, PrivateImageService } from '../src/service/images/index.js';
import { FileImageStore, ImageStorage, type ImageStore } from '../src/service/storage/index.js';

/** A real image whose bytes are in the store. */
export interface BenchContent {
  guid: string;
  etag: string;
  bytes: Buffer;
}

/** What the cases need to know about a prepared database. */
export interface BenchData {
  /** Environment that points `pixyproxy serve` at this database and image directory. */
  env: Record<string, string>;
  rows: number;
  /** Rows this call had to add (0 when a kept catalogue already held them). */
  filledRows: number;
  /** Guids of synthetic rows spread evenly over the catalogue, for the detail case. */
  guids: string[];
  /** `after` cursors of those rows, each followed by a full page, for the cursor case. */
  cursors: string[];
  /** The real images (rebuilt catalogues only): 64 KiB and 1 MiB noise PNGs. */
  content?: { small: BenchContent; large: BenchContent };
  /** 1024x1024 PNGs from the local generator (rebuilt catalogues that asked for them), for the thumbnail cases. */
  thumbnailOriginals: BenchContent[];
}

/** Side of an RGB noise PNG of about 64 KiB (148 x 148 x 3 bytes of pixels). */
const SIXTY_FOUR_KIB_SIDE = 148;

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

/**
 * The bench's own queries over a whole large catalogue (a COUNT, the migrations) may take longer than a
 * request's query timeout on a busy machine, right after a fill, when little of the table is cached.
 */
function withoutRequestTimeout(database: DatabaseConfig): DatabaseConfig {
  return database.kind === 'mysql' ? { ...database, queryTimeoutMs: 3_600_000 } : database;
}

async function countRows(database: DatabaseConfig): Promise<number> {
  const db = await openDatabase(withoutRequestTimeout(database));
  try {
    await migrate(db);
    return Number((await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM image'))?.n ?? 0);
  } finally {
    await db.close();
  }
}

/**
 * `count` synthetic rows spread evenly over the catalogue (every n-th id), newest last, skipping the
 * oldest page so that a page after each of them is full.
 */
async function sampleRows(database: DatabaseConfig, rows: number, count: number): Promise<{ guids: string[]; cursors: string[] }> {
  const db = await openDatabase(withoutRequestTimeout(database));
  try {
    // Synthetic ids run from 1 without gaps (scripts/fill-images.ts): every step-th one is looked up by
    // primary key, not found by scanning the table.
    const step = Math.max(1, Math.floor(rows / count));
    const ids = Array.from({ length: count }, (_, k) => step * (k + 1)).filter((id) => id > 100 && id <= rows);
    const params = Object.fromEntries(ids.map((id, n) => [`id${n}`, id]));
    const sample = await db.all<{ guid: string; created_at: string | Date }>(
      `SELECT guid, created_at FROM image WHERE model = 'synthetic' AND id IN (${ids.map((_, n) => `:id${n}`).join(', ')}) ORDER BY id`,
      params,
    );
    return {
      guids: sample.map((row) => row.guid),
      cursors: sample.map((row) => encodeCursor({ createdAt: fromSqlTime(row.created_at), guid: row.guid })),
    };
  } finally {
    await db.close();
  }
}

/**
 * The store the content images go to: the file store under `imageDir`, or `objectStore` (then the rows
 * name it, and a server reads them from there).
 */
function contentStorage(imageDir: string, objectStore: ImageStore | undefined): ImageStorage {
  const file = new FileImageStore(imageDir);
  return objectStore === undefined ? new ImageStorage([file], 'file') : new ImageStorage([file, objectStore], 's3');
}

/** Adds the two images through the real create path (store put, then the row). */
async function addContentImages(database: DatabaseConfig, storage: ImageStorage): Promise<NonNullable<BenchData['content']>> {
  return {
    small: await addContentImage(database, storage, noisePng(SIXTY_FOUR_KIB_SIDE, SIXTY_FOUR_KIB_SIDE, 'bench content 64k')),
    large: await addContentImage(database, storage, noisePng(ONE_MIB_SIDE, ONE_MIB_SIDE, 'bench content')),
  };
}

async function addContentImage(database: DatabaseConfig, storage: ImageStorage, bytes: Buffer, prompt = 'benchmark content image'): Promise<BenchContent> {
  const side = bytes.readUInt32BE(16); // IHDR width
  const db = await openDatabase(database);
  try {
    const generator = {
      name: 'noise',
      generate: async () => ({ bytes, contentType: 'image/png' as const, extension: 'png' as const, width: side, height: side, model: 'noise', revisedPrompt: null, quality: null, background: null, outputFormat: 'png' as const, usage: null }),
    };
    const service = new PrivateImageService({ images: new SqlImageRepository(db), storage, generator });
    const author = { username: 'admin', is_admin: true, created_at: new Date().toISOString() };
    const detail = await service.create(author, { prompt, tags: ['bench'], options: {} });
    const record = await new SqlImageRepository(db).findByGuid(detail.guid);
    return { guid: detail.guid, etag: `"${record!.sha256}"`, bytes };
  } finally {
    await db.close();
  }
}

/** `count` distinct 1024x1024 PNGs, each painted from its own prompt by the local generator. */
async function addThumbnailOriginals(database: DatabaseConfig, storage: ImageStorage, count: number): Promise<BenchContent[]> {
  const generator = new LocalImageGenerator({ width: 1024, height: 1024 });
  const originals: BenchContent[] = [];
  for (let n = 0; n < count; n++) {
    const prompt = `thumbnail original ${n}`;
    const { bytes } = await generator.generate(prompt);
    originals.push(await addContentImage(database, storage, bytes, prompt));
  }
  return originals;
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
  /** Where the content images go (with `env`, the server's settings to reach it); the file store by default. */
  objectStore?: { store: ImageStore; env: Record<string, string> };
  /** How many 1024x1024 originals to add for the thumbnail cases (rebuilt catalogues only). */
  thumbnailOriginals?: number;
}): Promise<BenchData> {
  const { dir, database, rows } = options;
  if (!options.reuse) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const have = existsSync(dir) ? await countRows(database) : 0;
  const filledRows = Math.max(0, rows - have);
  if (have < rows) {
    options.log(`filling ${rows - have} synthetic rows into ${options.databaseUrl} ...`);
    const report = await fillImages(database, rows - have, (done) => {
      if (done % 100_000 === 0) options.log(`  ${done} / ${rows - have}`);
    });
    options.log(`  filled in ${report.seconds.toFixed(1)} s`);
  }
  const storage = contentStorage(join(dir, 'images'), options.objectStore?.store);
  let content: BenchData['content'];
  let thumbnailOriginals: BenchContent[] = [];
  try {
    content = options.reuse ? undefined : await addContentImages(database, storage);
    thumbnailOriginals = options.reuse ? [] : await addThumbnailOriginals(database, storage, options.thumbnailOriginals ?? 0);
  } finally {
    storage.close();
  }
  return {
    env: { ...serverEnv(database, options.databaseUrl, dir), ...options.objectStore?.env },
    rows,
    filledRows,
    ...(await sampleRows(database, rows, 1000)),
    ...(content && { content }),
    thumbnailOriginals,
  };
}
