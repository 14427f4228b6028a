import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { ServiceLogger } from '../core/service-logger.js';
import type { Database } from '../data/database.js';
import { SqlImageRepository } from '../data/image-repository.js';
import { migrate, type MigrationReport } from '../data/migrator.js';
import { openDatabase } from '../data/open-database.js';
import { SqlUserRepository } from '../data/user-repository.js';
import { AccessService, AuthFailureLimiter, CredentialCache, type ScryptParams } from '../service/access/index.js';
import { createGenerator, GenerationLimiter, type ImageGenerator } from '../service/generation/index.js';
import { PrivateImageService, PublicImageService } from '../service/images/index.js';
import {
  FileImageStore,
  ImageStorage,
  OrphanSweeper,
  S3ImageStore,
  StorageMigration,
  sweepGraceMs,
  type ImageStore,
} from '../service/storage/index.js';
import type { AppServices } from '../web/app.js';
import { ReadinessCheck } from '../web/routes/readiness-check.js';

export interface Context {
  config: Config;
  db: Database;
  /** The store new bytes go to (IMAGE_STORE). */
  store: ImageStore;
  /** Every configured store, and which one each row's bytes are read from. */
  storage: ImageStorage;
  generator: ImageGenerator;
  services: AppServices;
  /** Removes image bytes whose row never committed (start-up and `pixyproxy doctor`), in every store. */
  sweeper: OrphanSweeper;
  /** `pixyproxy storage migrate`. */
  storageMigration: StorageMigration;
  migration: MigrationReport;
  close(): Promise<void>;
}

export interface ContextOverrides {
  /** Replaces the configured generator (tests use small or failing ones). */
  generator?: ImageGenerator;
  /** Cheaper password hashing for tests. */
  scrypt?: ScryptParams;
}

/**
 * The composition root: opens the database, applies migrations and builds every stateful part once
 * (repositories, store, generator behind its limiter, credential cache, failed-login limiter,
 * services). The CLI, the server and the tests build the running system through this one function.
 * @throws DBConnectionError when the database cannot be opened; ConfigurationError from createGenerator
 */
export async function openContext(config: Config, log: ServiceLogger, overrides: ContextOverrides = {}): Promise<Context> {
  const db = await openDatabase(config.database);
  try {
    const migration = await migrate(db);
    const images = new SqlImageRepository(db);
    const storage = openStorage(config);
    const store = storage.storeFor(config.storage.kind);
    // Every generator, the local one included, runs behind the same concurrency cap and queue.
    const generator = new GenerationLimiter(overrides.generator ?? (await createGenerator(config, log)), {
      concurrency: config.generationConcurrency,
      queue: config.generationQueue,
    });
    const access = new AccessService({
      users: new SqlUserRepository(db),
      credentialCache: new CredentialCache(config.authCacheTtlMs),
      failureLimiter: new AuthFailureLimiter({ limit: config.authFailureLimit, windowMs: config.authFailureWindowMs }),
      ...(overrides.scrypt && { scrypt: overrides.scrypt }),
    });
    const services: AppServices = {
      publicImages: new PublicImageService(images, storage),
      privateImages: new PrivateImageService({ images, storage, generator, log }),
      access,
      readiness: new ReadinessCheck(db, storage),
    };
    const sweeper = new OrphanSweeper({ stores: storage.stores, images, log, graceMs: sweepGraceMs(createLimits(config)) });
    const storageMigration = new StorageMigration({ storage, images, log });
    const close = async () => {
      storage.close();
      await db.close();
    };
    return { config, db, store, storage, generator, services, sweeper, storageMigration, migration, close };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * The stores this process can reach: the file store always (rows written before IMAGE_STORE=s3 stay
 * readable), the S3 bucket whenever S3_BUCKET is set. Credentials come from the AWS SDK's default chain.
 */
function openStorage(config: Config): ImageStorage {
  const stores: ImageStore[] = [new FileImageStore(config.imageDir)];
  if (config.storage.s3 !== undefined) {
    stores.push(new S3ImageStore({ ...config.storage.s3, timeoutMs: config.storage.timeoutMs }));
  }
  return new ImageStorage(stores, config.storage.kind);
}

/** The bounds on each step of a create, from the configuration (milliseconds), for the sweep's grace period. */
function createLimits(config: Config) {
  const { database } = config;
  return {
    generationTimeoutMs: config.openai.timeoutMs,
    storeTimeoutMs: config.storage.timeoutMs,
    // SQLite's busy timeout is 5 s (data/sqlite-database.ts).
    databaseTimeoutMs: database.kind === 'mysql' ? database.connectTimeoutMs + database.queryTimeoutMs : 5000,
  };
}

export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

/**
 * First start: creates `admin`. A generated password goes to DATA_DIR/initial-admin-password (0600);
 * the returned path is what gets logged, never the password.
 */
export async function ensureInitialAdmin(context: Context): Promise<{ created: boolean; passwordFile?: string }> {
  const result = await context.services.access.ensureInitialAdmin(context.config.adminPassword);
  if (result.generatedPassword === undefined) return { created: result.created };
  await mkdir(context.config.dataDir, { recursive: true });
  const passwordFile = join(context.config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  await writeFile(passwordFile, `${result.generatedPassword}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  return { created: true, passwordFile };
}
