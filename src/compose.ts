import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './core/config.js';
import type { Database } from './data/database.js';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { SqlIdempotencyKeyRepository } from './data/idempotency-key-repository.js';
import { SqlImageRepository } from './data/image-repository.js';
import { openRedis, waitUntilReady } from './data/redis-connection.js';
import { RedisCredentialInvalidation } from './service/access/redis-credential-invalidation.js';
import { RedisLoginLimiter } from './service/access/redis-login-limiter.js';
import type { LoginLimiter } from './service/auth-failure-limiter.js';
import { BullMqJobQueue } from './service/generation/bullmq-job-queue.js';
import type { GenerationJobQueue } from './service/generation/generation-jobs.js';
import { InProcessJobQueue } from './service/generation/in-process-job-queue.js';
import { ImageCreationService, imageJobProcessor } from './service/images/image-creation-service.js';
import { migrate, type MigrationReport } from './data/migrator.js';
import { openDatabase } from './data/open-database.js';
import { SqlUserRepository } from './data/user-repository.js';
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
import { redisRateLimitStore } from './web/redis-rate-limit-store.js';

export interface Context {
  config: Config;
  db: Database;
  store: FileImageStore;
  generator: ImageGenerator;
  services: AppServices;
  /** Removes image files whose row never committed (start-up and `pixyproxy doctor`). */
  sweeper: OrphanSweeper;
  migration: MigrationReport;
  jobs: GenerationJobQueue;
  /** With REDIS_URL: the failed-login limiter and the create rate-limit store shared by all instances. */
  sharedLimits: { loginLimiter: LoginLimiter; rateLimitStore: FastifyRateLimitStoreCtor } | undefined;
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
  /**
   * What this process is for: `server` (HTTP; runs generation jobs unless GENERATION_WORKER=false),
   * `worker` (`pixyproxy worker`: runs jobs, no HTTP) or `command` (the other CLI commands: neither
   * runs jobs nor listens for credential evictions, but publishes its own). Default `server`.
   */
  role?: 'server' | 'worker' | 'command';
}

/** How long start-up waits for Redis before giving up. */
const REDIS_STARTUP_TIMEOUT_MS = 10_000;

/** Milliseconds between sweeps of expired Idempotency-Keys. */
const IDEMPOTENCY_SWEEP_MS = 60 * 60 * 1000;

export async function openContext(config: Config, log: ServiceLogger, overrides: ContextOverrides = {}): Promise<Context> {
  const role = overrides.role ?? 'server';
  const db = await openDatabase(config.database);
  // Closed in reverse order of opening, whatever fails on the way.
  const closers: Array<() => Promise<void> | void> = [() => db.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const migration = await migrate(db);
    const images = new SqlImageRepository(db);
    const idempotencyKeys = new SqlIdempotencyKeyRepository(db);
    const store = new FileImageStore(config.imageDir);
    // Every generator, the local one included, runs behind the same concurrency cap and queue.
    const limiter = new GenerationLimiter(overrides.generator ?? (await createGenerator(config, log)), {
      concurrency: config.generationConcurrency,
      queue: config.generationQueue,
    });

    let requestRedis: Redis | undefined;
    const redisConfig = config.redis;
    if (redisConfig !== undefined) {
      requestRedis = openRedis(redisConfig, 'request');
      const client = requestRedis;
      closers.push(() => client.disconnect());
      await waitUntilReady(client, REDIS_STARTUP_TIMEOUT_MS);
    }
    const invalidation =
      redisConfig !== undefined && requestRedis !== undefined
        ? new RedisCredentialInvalidation(requestRedis, role === 'server' ? openRedis(redisConfig, 'subscriber') : undefined, redisConfig.keyPrefix)
        : undefined;
    const users = new UserService(new SqlUserRepository(db), {
      credentialCacheTtlMs: config.authCacheTtlMs,
      ...(overrides.scrypt && { scrypt: overrides.scrypt }),
      ...(invalidation && { publishEviction: (username: string) => invalidation.publish(username) }),
    });
    if (invalidation !== undefined && role === 'server') {
      closers.push(() => invalidation.close());
      await invalidation.listen({ evictUser: (username) => users.evictCachedUser(username), evictAll: () => users.evictAllCached() });
    }

    const privateImages = new PrivateImageService({ images, store, generator: limiter, log });
    const processor = imageJobProcessor({ create: (author, input, guid) => privateImages.create(author, input, guid), idempotencyKeys, log });
    const runsJobs = role === 'worker' || (role === 'server' && config.generationWorker);
    let jobs: GenerationJobQueue;
    if (redisConfig !== undefined) {
      jobs = await BullMqJobQueue.open({
        connect: (kind) => openRedis(redisConfig, kind),
        keyPrefix: redisConfig.keyPrefix,
        concurrency: config.generationConcurrency,
        queueBound: config.generationQueue,
        lockMs: config.generationLockMs,
        ...(runsJobs && { processor }),
        log,
      });
    } else {
      jobs = new InProcessJobQueue({
        processor,
        hasRoom: () => limiter.active < config.generationConcurrency || limiter.queued < config.generationQueue,
      });
    }
    const queue = jobs;
    closers.push(() => queue.close());

    // Expired Idempotency-Keys are replaced when reused; this keeps the table from growing meanwhile.
    if (role !== 'command') {
      const sweep = setInterval(() => {
        idempotencyKeys.deleteExpired(new Date().toISOString()).catch((err: unknown) => log.warn({ err }, 'could not delete expired idempotency keys'));
      }, IDEMPOTENCY_SWEEP_MS);
      sweep.unref();
      closers.push(() => clearInterval(sweep));
    }

    const services: AppServices = {
      publicImages: new PublicImageService(images, store),
      privateImages,
      creation: new ImageCreationService({
        jobs,
        idempotencyKeys,
        findImage: async (guid) => (await images.findByGuid(guid))?.detail,
      }),
      users,
      readiness: new ReadinessService(db),
    };
    const sharedLimits =
      redisConfig !== undefined && requestRedis !== undefined
        ? {
            loginLimiter: new RedisLoginLimiter(requestRedis, {
              limit: config.authFailureLimit,
              windowMs: config.authFailureWindowMs,
              keyPrefix: redisConfig.keyPrefix,
            }),
            rateLimitStore: redisRateLimitStore(requestRedis, redisConfig.keyPrefix),
          }
        : undefined;
    const sweeper = new OrphanSweeper({ store, images, log });
    return { config, db, store, generator: limiter, services, sweeper, migration, jobs, sharedLimits, close: closeAll };
  } catch (error) {
    await closeAll();
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
