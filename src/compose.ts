import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './core/config.js';
import { SqlApiKeyRepository } from './data/api-key-repository.js';
import type { Database } from './data/database.js';
import { SqlImageRepository } from './data/image-repository.js';
import { migrate, type MigrationReport } from './data/migrator.js';
import { openDatabase } from './data/open-database.js';
import { SqlUserRepository } from './data/user-repository.js';
import { ApiKeyService } from './service/access/api-key-service.js';
import { GenerationLimiter } from './service/generation-limiter.js';
import { createGenerator } from './service/generators/create-generator.js';
import type { ImageGenerator } from './service/image-generator.js';
import { OrphanSweeper } from './service/orphan-sweeper.js';
import { PrivateImageService } from './service/private-image-service.js';
import { PublicImageService } from './service/public-image-service.js';
import { ReadinessService } from './service/readiness-service.js';
import type { ScryptParams } from './service/password-hasher.js';
import type { ServiceLogger } from './service/service-logger.js';
import { FileImageStore } from './service/storage/file-image-store.js';
import { UserService } from './service/user-service.js';
import type { AppServices } from './web/app.js';

export interface Context {
  config: Config;
  db: Database;
  store: FileImageStore;
  generator: ImageGenerator;
  services: AppServices;
  /** API keys: bearer tokens that act as their user (`pixyproxy key`, bearer auth). */
  apiKeys: ApiKeyService;
  /** Removes image files whose row never committed (start-up and `pixyproxy doctor`). */
  sweeper: OrphanSweeper;
  migration: MigrationReport;
  close(): Promise<void>;
}

/**
 * The composition root: opens the database, applies migrations and wires every service. The CLI and
 * the end-to-end tests build the running system through this one function.
 */
export interface ContextOverrides {
  /** Replaces the configured generator (tests use small or failing ones). */
  generator?: ImageGenerator;
  /** Cheaper password hashing for tests. */
  scrypt?: ScryptParams;
}

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
    const users = new UserService(new SqlUserRepository(db), {
      credentialCacheTtlMs: config.authCacheTtlMs,
      ...(overrides.scrypt && { scrypt: overrides.scrypt }),
    });
    const services: AppServices = {
      publicImages: new PublicImageService(images, store),
      privateImages: new PrivateImageService({ images, store, generator, log }),
      users,
      readiness: new ReadinessService(db),
    };
    const apiKeys = new ApiKeyService(new SqlApiKeyRepository(db), { log });
    const sweeper = new OrphanSweeper({ store, images, log });
    const close = async () => {
      // Pending "last used" times are written while the database is still open.
      await apiKeys.flush();
      await db.close();
    };
    return { config, db, store, generator, services, apiKeys, sweeper, migration, close };
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
  const result = await context.services.users.ensureInitialAdmin(context.config.adminPassword);
  if (result.generatedPassword === undefined) return { created: result.created };
  await mkdir(context.config.dataDir, { recursive: true });
  const passwordFile = join(context.config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  await writeFile(passwordFile, `${result.generatedPassword}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  return { created: true, passwordFile };
}
