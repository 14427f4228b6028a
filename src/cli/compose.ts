import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { GenerationOptions } from '../core/models/generation-options.js';
import { imageDetailOf } from '../core/models/image.js';
import type { ServiceLogger } from '../core/service-logger.js';
import type { Database } from '../data/database.js';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { SqlApiKeyRepository } from '../data/api-key-repository.js';
import { SqlIdempotencyKeyRepository } from '../data/idempotency-key-repository.js';
import { SqlImageRepository } from '../data/image-repository.js';
import { openRedis, waitUntilReady } from '../data/redis-connection.js';
import { migrate, type MigrationReport } from '../data/migrator.js';
import { openDatabase } from '../data/open-database.js';
import { SqlUsageRepository } from '../data/usage-repository.js';
import { SqlUserRepository } from '../data/user-repository.js';
import {
  AccessService,
  ApiKeyService,
  AuthFailureLimiter,
  CredentialCache,
  RedisCredentialInvalidation,
  RedisLoginLimiter,
  type LoginLimiter,
  type ScryptParams,
} from '../service/access/index.js';
import {
  assertPriced,
  createGenerator,
  END_USER_ID_SECRET_FILE,
  EndUserIds,
  GenerationLimiter,
  describeImageOptions,
  InProcessJobQueue,
  LOCAL_DEFAULT_SIZE,
  loadOrCreateEndUserSecret,
  loadPriceTable,
  openBullMqJobQueue,
  type GenerationJobQueue,
  type ImageGenerator,
  type ModelPolicy,
} from '../service/generation/index.js';
import { ImageCreationService, imageJobProcessor, PrivateImageService, PublicImageService } from '../service/images/index.js';
import { MeteringService } from '../service/metering/index.js';
import {
  ContentCache,
  FileImageStore,
  ImageStorage,
  ImageVariants,
  OrphanSweeper,
  openS3ImageStore,
  SharpResizer,
  StorageMigration,
  sweepGraceMs,
  type ImageResizer,
  type ImageStore,
} from '../service/storage/index.js';
import type { AppServices } from '../web/app.js';
import { redisRateLimitStore } from '../web/redis-rate-limit-store.js';
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
  /** Where creates run as generation jobs: BullMQ on Redis (REDIS_URL), else in this process. */
  jobs: GenerationJobQueue;
  /** With REDIS_URL: the create rate limit's store in Redis, for buildApp. */
  rateLimitStore: FastifyRateLimitStoreCtor | undefined;
  close(): Promise<void>;
}

export interface ContextOverrides {
  /** Replaces the configured generator (tests use small or failing ones). */
  generator?: ImageGenerator;
  /** Cheaper password hashing for tests. */
  scrypt?: ScryptParams;
  /** Replaces the thumbnail resizer (tests hold a resize to fill THUMBNAIL_CONCURRENCY). */
  resizer?: ImageResizer;
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

/** The models a create may choose: the built-in generator's, or OPENAI_IMAGE_MODEL plus OPENAI_IMAGE_MODELS. */
export function modelPolicyOf(config: Config): ModelPolicy {
  if (config.generator === 'local') return { defaultModel: 'local', allowedModels: ['local'] };
  return { defaultModel: config.openai.model, allowedModels: config.openai.allowedModels };
}

/**
 * What `GET /image/options` answers for this configuration: the models of modelPolicyOf with their
 * options; the default model's default size is IMAGE_SIZE (the local generator's own without it).
 */
export function generationOptionsOf(config: Config): GenerationOptions {
  const localSize = `${LOCAL_DEFAULT_SIZE.width}x${LOCAL_DEFAULT_SIZE.height}`;
  return describeImageOptions(modelPolicyOf(config), config.imageSize ?? (config.generator === 'local' ? localSize : undefined));
}

/**
 * How long an unsettled quota reservation holds: the longest a create can take (waiting in the
 * generation queue, then generating within OPENAI_TIMEOUT_MS) plus 5 minutes. Only a process that
 * died mid-create leaves one behind for this long.
 */
function reservationTtlMs(config: Config): number {
  return config.openai.timeoutMs * (Math.ceil(config.generationQueue / config.generationConcurrency) + 1) + 5 * 60_000;
}

/**
 * The composition root: opens the database, applies migrations and builds every stateful part once
 * (repositories, store, generator behind its limiter, credential cache, failed-login limiter,
 * services). The CLI, the server and the tests build the running system through this one function.
 * @throws DBConnectionError when the database cannot be opened; ConfigurationError from createGenerator
 */
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
    const storage = await openStorage(config);
    const store = storage.storeFor(config.storage.kind);
    // Every generator, the local one included, runs behind the same concurrency cap and queue.
    const generator = new GenerationLimiter(overrides.generator ?? (await createGenerator(config, log)), {
      concurrency: config.generationConcurrency,
      queue: config.generationQueue,
    });
    const apiKeys = new ApiKeyService(new SqlApiKeyRepository(db), { log });
    // Pending "last used" times are written while the database is still open (closers run in reverse).
    closers.push(() => apiKeys.flush());

    // Shared state (REDIS_URL): one fail-fast connection for the request path, the failed-login
    // limiter and the create rate limit on it, credential evictions over pub/sub.
    const redisConfig = config.redis;
    let requestRedis: Redis | undefined;
    if (redisConfig !== undefined) {
      const client = openRedis(redisConfig, 'request');
      closers.push(() => client.disconnect());
      await waitUntilReady(client, REDIS_STARTUP_TIMEOUT_MS);
      requestRedis = client;
    }
    const invalidation =
      redisConfig && requestRedis
        ? new RedisCredentialInvalidation(requestRedis, role === 'server' ? openRedis(redisConfig, 'subscriber') : undefined, redisConfig.keyPrefix)
        : undefined;
    const failureLimiter: LoginLimiter =
      redisConfig && requestRedis
        ? new RedisLoginLimiter(requestRedis, { limit: config.authFailureLimit, windowMs: config.authFailureWindowMs, keyPrefix: redisConfig.keyPrefix })
        : new AuthFailureLimiter({ limit: config.authFailureLimit, windowMs: config.authFailureWindowMs });
    const access = new AccessService({
      users: new SqlUserRepository(db),
      apiKeys,
      credentialCache: new CredentialCache(config.authCacheTtlMs),
      failureLimiter,
      ...(invalidation && { publishEviction: (username: string) => invalidation.publish(username) }),
      ...(overrides.scrypt && { scrypt: overrides.scrypt }),
    });
    if (invalidation !== undefined && role === 'server') {
      closers.push(() => invalidation.close());
      await invalidation.listen({ evictUser: (username) => access.evictCachedUser(username), evictAll: () => access.evictAllCached() });
    }

    const models = modelPolicyOf(config);
    const prices = await loadPriceTable(config.pricesFile);
    assertPriced(prices, models.allowedModels);
    const metering = new MeteringService({ usage: new SqlUsageRepository(db), prices, reservationTtlMs: reservationTtlMs(config) });
    // The provider sees an HMAC of the author, never the name; the local generator sends nothing anywhere.
    const endUserIds =
      config.generator === 'openai'
        ? new EndUserIds(await loadOrCreateEndUserSecret(config.endUserIdSecret, join(config.dataDir, END_USER_ID_SECRET_FILE)))
        : undefined;

    // Every create is a generation job whose id is the image's guid.
    const privateImages = new PrivateImageService({ images, storage, generator, models, metering, ...(endUserIds && { endUserIds }), log });
    const processor = imageJobProcessor({
      create: (author, command, guid, admitted) => privateImages.create(author, command, guid, '/body', admitted),
      idempotencyKeys,
      log,
    });
    const runsJobs = role === 'worker' || (role === 'server' && config.generationWorker);
    let jobs: GenerationJobQueue;
    if (redisConfig !== undefined) {
      jobs = await openBullMqJobQueue({
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
        hasRoom: () => generator.active < config.generationConcurrency || generator.queued < config.generationQueue,
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

    const imageVariants = new ImageVariants(storage, overrides.resizer ?? new SharpResizer(config.thumbnailMaxInputPixels), {
      concurrency: config.thumbnailConcurrency,
      queue: config.thumbnailQueue,
    });
    const services: AppServices = {
      publicImages: new PublicImageService(images, storage, new ContentCache(config.contentCacheBytes)),
      imageVariants,
      privateImages,
      metering,
      creation: new ImageCreationService({ jobs, admission: privateImages, idempotencyKeys, findImage: async (guid) => {
        const found = await images.findByGuid(guid);
        return found === undefined ? undefined : imageDetailOf(found);
      } }),
      access,
      apiKeys,
      readiness: new ReadinessCheck(db, storage),
    };
    const rateLimitStore = redisConfig && requestRedis ? redisRateLimitStore(requestRedis, redisConfig.keyPrefix) : undefined;
    const sweeper = new OrphanSweeper({ stores: storage.stores, images, log, graceMs: sweepGraceMs(createLimits(config)) });
    const storageMigration = new StorageMigration({ storage, images, log });
    closers.splice(1, 0, () => storage.close());
    return { config, db, store, storage, generator, services, sweeper, storageMigration, migration, jobs, rateLimitStore, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The stores this process can reach: the file store always (rows written before IMAGE_STORE=s3 stay
 * readable), the S3 bucket whenever S3_BUCKET is set. Credentials come from the AWS SDK's default chain.
 */
async function openStorage(config: Config): Promise<ImageStorage> {
  const stores: ImageStore[] = [new FileImageStore(config.imageDir)];
  if (config.storage.s3 !== undefined) {
    stores.push(await openS3ImageStore({ ...config.storage.s3, timeoutMs: config.storage.timeoutMs }));
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
