import { isAbsolute, join, resolve } from 'node:path';
import { ConfigurationError } from './errors.js';
import type { ImageStoreKind } from './models/image.js';

export type { ImageStoreKind } from './models/image.js';

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | {
      kind: 'mysql';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      poolSize: number;
      /** Bound on opening a connection and on waiting for a free one in the pool. */
      connectTimeoutMs: number;
      /** Bound on one query; a server that stops answering fails the request instead of hanging it. */
      queryTimeoutMs: number;
    };

export type GeneratorKind = 'local' | 'openai';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface OpenAIConfig {
  apiKey: string | undefined;
  baseURL: string | undefined;
  /** The model a create gets when it names none. */
  model: string;
  /** Models a create may name (`model`); always includes `model`. */
  allowedModels: readonly string[];
  timeoutMs: number;
  maxRetries: number;
}

/** Where state shared by every instance lives (REDIS_URL); absent: in this process only (one instance). */
export interface RedisConfig {
  /** redis:// or rediss:// URL, possibly with a password; log it only through describeRedis(). */
  url: string;
  /** Prepended to every key and channel (REDIS_KEY_PREFIX), so several deployments can share one server. */
  keyPrefix: string;
  /** Bound on one command on the request path (REDIS_COMMAND_TIMEOUT_MS); past it the request gets 503. */
  commandTimeoutMs: number;
}

/** How `GET /image/{guid}/content` hands out bytes kept in S3: streamed through, or a 302 to a presigned URL. */
export type ContentDelivery = 'stream' | 'redirect';

/** An S3-compatible bucket. Credentials are not here: they come from the AWS SDK's default chain. */
export interface S3Config {
  bucket: string;
  /** Prepended to every object key, e.g. `images/`; '' for none. */
  prefix: string;
  /** undefined for AWS itself; the base URL of any other S3-compatible server. */
  endpoint: string | undefined;
  region: string;
  /** Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted ones (`bucket.endpoint/key`). */
  forcePathStyle: boolean;
}

export interface StorageConfig {
  /** Where new image bytes are written (`IMAGE_STORE`). Rows written earlier keep naming their own store. */
  kind: ImageStoreKind;
  /** Set whenever S3_BUCKET is, also with IMAGE_STORE=file, so rows written to S3 stay readable. */
  s3: S3Config | undefined;
  /** Bound on one store operation (and on the first byte of a read); a slow store answers 503 after it. */
  timeoutMs: number;
  contentDelivery: ContentDelivery;
  /** Lifetime of a presigned URL handed out with CONTENT_DELIVERY=redirect, in seconds. */
  presignExpiresSeconds: number;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  imageDir: string;
  storage: StorageConfig;
  database: DatabaseConfig;
  logLevel: LogLevel;
  logPretty: boolean;
  adminPassword: string | undefined;
  generator: GeneratorKind;
  /** WIDTHxHEIGHT, or undefined for the generator's own default. */
  imageSize: string | undefined;
  openai: OpenAIConfig;
  generationConcurrency: number;
  generationQueue: number;
  /** Whether this server also runs generation jobs (GENERATION_WORKER); false: it only enqueues them. */
  generationWorker: boolean;
  /**
   * How long a worker's claim on a job lasts without renewal (GENERATION_LOCK_MS, BullMQ `lockDuration`).
   * A worker that dies loses its jobs to another worker after about this long.
   */
  generationLockMs: number;
  redis: RedisConfig | undefined;
  /** Thumbnail resizes running at once (THUMBNAIL_CONCURRENCY). */
  thumbnailConcurrency: number;
  /** Thumbnail resizes waiting for a slot before 503 (THUMBNAIL_QUEUE). */
  thumbnailQueue: number;
  /** Largest original, in pixels, a thumbnail is made of (THUMBNAIL_MAX_INPUT_PIXELS). */
  thumbnailMaxInputPixels: number;
  /** Creates allowed per user per minute. */
  createRateLimit: number;
  /** Failed Basic-auth attempts allowed per client address and per username in authFailureWindowMs. */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** How long a verified Authorization header is trusted without re-running scrypt. */
  authCacheTtlMs: number;
  /** Bytes of recently served images kept in memory, by sha-256 (0: none). */
  contentCacheBytes: number;
  trustProxy: boolean | string;
  shutdownTimeoutMs: number;
  /** A price table to use instead of the shipped one (JSON), or undefined. */
  pricesFile: string | undefined;
  /** Secret for the end-user ids sent to the provider; undefined: generated into DATA_DIR. */
  endUserIdSecret: string | undefined;
  /**
   * The public origin (PUBLIC_BASE_URL, no trailing slash) for absolute image URLs in /v1 answers;
   * undefined: derived from each request.
   */
  publicBaseUrl: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const IMAGE_SIZE_PATTERN = /^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$/;

function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?[0-9]+$/.test(raw)) throw new ConfigurationError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigurationError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = present(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigurationError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigurationError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

type PoolSettings = Pick<Extract<DatabaseConfig, { kind: 'mysql' }>, 'poolSize' | 'connectTimeoutMs' | 'queryTimeoutMs'>;

function mysqlFromUrl(raw: string, pool: PoolSettings): DatabaseConfig {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError('DATABASE_URL is not a valid URL');
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!url.hostname || !database) {
    throw new ConfigurationError('DATABASE_URL must look like mysql://user:password@host:port/database');
  }
  return {
    kind: 'mysql',
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
    ...pool,
  };
}

function databaseConfig(env: Env, dataDir: string, cwd: string): DatabaseConfig {
  const pool: PoolSettings = {
    poolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    queryTimeoutMs: integer(env, 'DB_QUERY_TIMEOUT_MS', 10_000, 100, 3_600_000),
  };
  const url = present(env, 'DATABASE_URL');
  if (url === undefined) {
    const host = present(env, 'DB_HOST');
    if (host === undefined) return { kind: 'sqlite', file: join(dataDir, 'pixyproxy.db') };
    const database = present(env, 'DB_NAME');
    if (database === undefined) throw new ConfigurationError('DB_NAME is required when DB_HOST is set');
    return {
      kind: 'mysql',
      host,
      port: integer(env, 'DB_PORT', 3306, 1, 65535),
      user: present(env, 'DB_USER') ?? 'pixyproxy',
      password: env['DB_PASSWORD'] ?? '',
      database,
      ...pool,
    };
  }
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new ConfigurationError('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/pixyproxy.db');
    return { kind: 'sqlite', file: file === ':memory:' ? file : resolve(cwd, file) };
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return mysqlFromUrl(url, pool);
  throw new ConfigurationError('DATABASE_URL must start with sqlite: or mysql://');
}

function publicBaseUrl(env: Env): string | undefined {
  const raw = present(env, 'PUBLIC_BASE_URL');
  if (raw === undefined) return undefined;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ConfigurationError(`PUBLIC_BASE_URL must be an http or https URL without query or fragment, got "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

function redisConfig(env: Env): RedisConfig | undefined {
  const url = present(env, 'REDIS_URL');
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError('REDIS_URL is not a valid URL');
  }
  if ((parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new ConfigurationError('REDIS_URL must look like redis://[:password@]host:port[/db] (or rediss:// for TLS)');
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^[0-9]{1,2}$/.test(db)) throw new ConfigurationError(`REDIS_URL's database must be a number, got "${db}"`);
  const keyPrefix = present(env, 'REDIS_KEY_PREFIX') ?? 'pixyproxy';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(keyPrefix)) {
    throw new ConfigurationError('REDIS_KEY_PREFIX is 1-64 characters of A-Z, a-z, 0-9, ".", "_" and "-"');
  }
  return { url, keyPrefix, commandTimeoutMs: integer(env, 'REDIS_COMMAND_TIMEOUT_MS', 1000, 50, 60_000) };
}

// AWS's rules for new buckets (3-63 characters, lowercase letters, digits, dots and hyphens, starting
// and ending with a letter or digit); every S3-compatible server accepts these names.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// The longest presigned URL lifetime SigV4 allows (7 days).
const PRESIGN_MAX_SECONDS = 604_800;

function s3Config(env: Env): S3Config | undefined {
  const bucket = present(env, 'S3_BUCKET');
  if (bucket === undefined) return undefined;
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new ConfigurationError(`S3_BUCKET must be a DNS-compatible bucket name (3-63 of a-z 0-9 . -), got "${bucket}"`);
  }
  const prefix = present(env, 'S3_PREFIX') ?? '';
  // S3's "safe characters" only, so every key is ASCII and fits the database's key column with room to spare.
  if (!/^[A-Za-z0-9!_.*'()/-]{0,256}$/.test(prefix) || prefix.startsWith('/') || prefix.split('/').some((part, i, parts) => part === '.' || part === '..' || (part === '' && i < parts.length - 1))) {
    throw new ConfigurationError(`S3_PREFIX must be a relative key prefix of at most 256 of A-Z a-z 0-9 ! _ . * ' ( ) / -, such as "images/", got "${prefix}"`);
  }
  const endpoint = present(env, 'S3_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new ConfigurationError(`S3_ENDPOINT must be an http:// or https:// URL, got "${endpoint}"`);
  }
  if (endpoint !== undefined && !URL.canParse(endpoint)) throw new ConfigurationError('S3_ENDPOINT is not a valid URL');
  return {
    bucket,
    prefix,
    endpoint,
    region: present(env, 'S3_REGION') ?? present(env, 'AWS_REGION') ?? 'us-east-1',
    // Other servers rarely have wildcard DNS for bucket subdomains; AWS itself prefers virtual-hosted style.
    forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
  };
}

function storageConfig(env: Env): StorageConfig {
  const kind = oneOf<ImageStoreKind>(env, 'IMAGE_STORE', ['file', 's3'], 'file');
  const s3 = s3Config(env);
  if (kind === 's3' && s3 === undefined) throw new ConfigurationError('IMAGE_STORE=s3 needs S3_BUCKET to be set');
  return {
    kind,
    s3,
    timeoutMs: integer(env, 'STORE_TIMEOUT_MS', 10_000, 100, 600_000),
    contentDelivery: oneOf<ContentDelivery>(env, 'CONTENT_DELIVERY', ['stream', 'redirect'], 'stream'),
    presignExpiresSeconds: integer(env, 'PRESIGN_EXPIRES_SECONDS', 300, 1, PRESIGN_MAX_SECONDS),
  };
}

function trustProxy(env: Env): boolean | string {
  const raw = present(env, 'TRUST_PROXY');
  if (raw === undefined) return false;
  const lowered = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
  if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
  // Anything else is handed to Fastify as an address list, e.g. "127.0.0.1,10.0.0.0/8".
  return raw;
}

/**
 * OPENAI_IMAGE_MODEL when unset. OpenAI's deprecations page retires gpt-image-1 (2026-10-23) and then
 * gpt-image-1-mini, gpt-image-1.5 and chatgpt-image-latest, all in favour of gpt-image-2; the older
 * models stay selectable for providers that still serve them.
 */
export const DEFAULT_OPENAI_IMAGE_MODEL = 'gpt-image-2';

/**
 * Reads and validates the whole configuration from the environment. Pure: the caller loads `.env`
 * into the environment first. Throws ConfigurationError naming the offending variable.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  const dataDir = absolute(present(env, 'DATA_DIR') ?? './data');
  const imageDir = absolute(present(env, 'IMAGE_DIR') ?? join(dataDir, 'images'));
  const apiKey = present(env, 'OPENAI_API_KEY');
  const generator = oneOf<GeneratorKind>(env, 'IMAGE_GENERATOR', ['local', 'openai'], apiKey ? 'openai' : 'local');
  if (generator === 'openai' && apiKey === undefined) {
    throw new ConfigurationError('IMAGE_GENERATOR=openai needs OPENAI_API_KEY to be set');
  }
  const imageSize = present(env, 'IMAGE_SIZE');
  if (imageSize !== undefined && !IMAGE_SIZE_PATTERN.test(imageSize)) {
    throw new ConfigurationError(`IMAGE_SIZE must look like 1024x1024, got "${imageSize}"`);
  }
  const model = present(env, 'OPENAI_IMAGE_MODEL') ?? DEFAULT_OPENAI_IMAGE_MODEL;
  const listed = present(env, 'OPENAI_IMAGE_MODELS')?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (listed !== undefined && listed.some((name) => !/^[A-Za-z0-9._:-]{1,100}$/.test(name))) {
    throw new ConfigurationError('OPENAI_IMAGE_MODELS must be a comma-separated list of model names');
  }
  const allowedModels = [...new Set([model, ...(listed ?? [])])];
  const endUserIdSecret = present(env, 'END_USER_ID_SECRET');
  if (endUserIdSecret !== undefined && Buffer.byteLength(endUserIdSecret) < 32) {
    throw new ConfigurationError('END_USER_ID_SECRET must be at least 32 bytes long');
  }
  const pricesFile = present(env, 'PRICES_FILE');
  const baseURL = present(env, 'OPENAI_BASE_URL');
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new ConfigurationError('OPENAI_BASE_URL is not a valid URL');
  }

  const redis = redisConfig(env);
  const generationQueue = integer(env, 'GENERATION_QUEUE', 32, 0, 100_000);
  // On the shared queue every job waits in it before a worker takes it, and the bound counts waiting
  // jobs: 0 would refuse every create.
  if (redis !== undefined && generationQueue < 1) throw new ConfigurationError('GENERATION_QUEUE must be at least 1 with REDIS_URL');

  return {
    port: integer(env, 'PORT', 8000, 0, 65535),
    host: present(env, 'HOST') ?? '127.0.0.1',
    dataDir,
    imageDir,
    storage: storageConfig(env),
    database: databaseConfig(env, dataDir, cwd),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logPretty: boolean(env, 'LOG_PRETTY', false),
    adminPassword: present(env, 'PIXYPROXY_ADMIN_PASSWORD'),
    generator,
    imageSize,
    openai: {
      apiKey,
      baseURL,
      model,
      allowedModels,
      timeoutMs: integer(env, 'OPENAI_TIMEOUT_MS', 120_000, 1, 3_600_000),
      maxRetries: integer(env, 'OPENAI_MAX_RETRIES', 2, 0, 10),
    },
    generationConcurrency: integer(env, 'GENERATION_CONCURRENCY', 4, 1, 1000),
    generationQueue,
    generationWorker: boolean(env, 'GENERATION_WORKER', true),
    generationLockMs: integer(env, 'GENERATION_LOCK_MS', 30_000, 1000, 600_000),
    redis,
    thumbnailConcurrency: integer(env, 'THUMBNAIL_CONCURRENCY', 2, 1, 1000),
    thumbnailQueue: integer(env, 'THUMBNAIL_QUEUE', 200, 0, 100_000),
    // 16384 x 16384 is libvips' own default cap; 50 MP covers every size a provider makes (at most 4096 x 4096).
    thumbnailMaxInputPixels: integer(env, 'THUMBNAIL_MAX_INPUT_PIXELS', 50_000_000, 1, 268_402_689),
    createRateLimit: integer(env, 'CREATE_RATE_LIMIT', 30, 1, 1_000_000),
    authFailureLimit: integer(env, 'AUTH_FAILURE_LIMIT', 10, 1, 1_000_000),
    authFailureWindowMs: integer(env, 'AUTH_FAILURE_WINDOW_MS', 15 * 60_000, 1000, 86_400_000),
    authCacheTtlMs: integer(env, 'AUTH_CACHE_TTL_MS', 60_000, 0, 86_400_000),
    contentCacheBytes: integer(env, 'CONTENT_CACHE_BYTES', 16 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    trustProxy: trustProxy(env),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, 0, 600_000),
    pricesFile: pricesFile === undefined ? undefined : absolute(pricesFile),
    endUserIdSecret,
    publicBaseUrl: publicBaseUrl(env),
  };
}

/** Where new bytes go, safe to log (no credentials are part of the storage config). */
export function describeImageStore(config: Pick<Config, 'imageDir' | 'storage'>): string {
  const { s3 } = config.storage;
  if (config.storage.kind === 'file' || s3 === undefined) return `file:${config.imageDir}`;
  return `s3://${s3.bucket}/${s3.prefix}${s3.endpoint ? ` at ${s3.endpoint}` : ''}`;
}

/** The database location with any password masked, safe to log. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return `sqlite:${database.file}`;
  const user = database.user ? `${encodeURIComponent(database.user)}:***@` : '';
  return `mysql://${user}${database.host}:${database.port}/${database.database}`;
}

/** The Redis location with any password masked, safe to log. */
export function describeRedis(redis: RedisConfig): string {
  const url = new URL(redis.url);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
