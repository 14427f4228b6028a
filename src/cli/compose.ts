import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { ServiceLogger } from '../core/service-logger.js';
import type { Database } from '../data/database.js';
import { SqlApiKeyRepository } from '../data/api-key-repository.js';
import { SqlImageRepository } from '../data/image-repository.js';
import { migrate, type MigrationReport } from '../data/migrator.js';
import { openDatabase } from '../data/open-database.js';
import { SqlUserRepository } from '../data/user-repository.js';
import { AccessService, ApiKeyService, AuthFailureLimiter, CredentialCache, type ScryptParams } from '../service/access/index.js';
import { createGenerator, GenerationLimiter, type ImageGenerator } from '../service/generation/index.js';
import { PrivateImageService, PublicImageService } from '../service/images/index.js';
import { FileImageStore, OrphanSweeper } from '../service/storage/index.js';
import type { AppServices } from '../web/app.js';
import { ReadinessCheck } from '../web/routes/readiness-check.js';

export interface Context {
  config: Config;
  db: Database;
  store: FileImageStore;
  generator: ImageGenerator;
  services: AppServices;
  /** Removes image files whose row never committed (start-up and `pixyproxy doctor`). */
  sweeper: OrphanSweeper;
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
    const store = new FileImageStore(config.imageDir);
    // Every generator, the local one included, runs behind the same concurrency cap and queue.
    const generator = new GenerationLimiter(overrides.generator ?? (await createGenerator(config, log)), {
      concurrency: config.generationConcurrency,
      queue: config.generationQueue,
    });
    const apiKeys = new ApiKeyService(new SqlApiKeyRepository(db), { log });
    const access = new AccessService({
      users: new SqlUserRepository(db),
      apiKeys,
      credentialCache: new CredentialCache(config.authCacheTtlMs),
      failureLimiter: new AuthFailureLimiter({ limit: config.authFailureLimit, windowMs: config.authFailureWindowMs }),
      ...(overrides.scrypt && { scrypt: overrides.scrypt }),
    });
    const services: AppServices = {
      publicImages: new PublicImageService(images, store),
      privateImages: new PrivateImageService({ images, store, generator, log }),
      access,
      apiKeys,
      readiness: new ReadinessCheck(db),
    };
    const sweeper = new OrphanSweeper({ store, images, log });
    const close = async () => {
      // Pending "last used" times are written while the database is still open.
      await apiKeys.flush();
      await db.close();
    };
    return { config, db, store, generator, services, sweeper, migration, close };
  } catch (error) {
    await db.close();
    throw error;
  }
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
