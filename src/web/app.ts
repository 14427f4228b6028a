import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import { ApiKeyListSchema, ApiKeySchema, CreatedApiKeySchema } from '../core/models/api-key.js';
import { GenerationOptionsSchema, ModelOptionsSchema, type GenerationOptions } from '../core/models/generation-options.js';
import { ImageDetailSchema, ImageListSchema } from '../core/models/image.js';
import { JobSchema } from '../core/models/job.js';
import { ProblemSchema } from '../core/models/problem.js';
import type { AccessService, ApiKeyService } from '../service/access/index.js';
import { describeImageOptions } from '../service/generation/index.js';
import type { ImageCreationService, PrivateImageService, PublicImageService } from '../service/images/index.js';
import type { ImageVariants } from '../service/storage/index.js';
import type { MeteringService } from '../service/metering/index.js';
import { MeSchema, UsageReportSchema } from '../core/models/usage.js';
import { authenticateRequest } from './authentication.js';
import { usageRoutes } from './routes/usage-routes.js';
import { bodilessRequests } from './bodiless-requests.js';
import { createRateLimitOf } from './create-rate-limit.js';
import { errorHandler, frameworkErrorHandler } from './error-handler.js';
import './fastify-types.js';
import { openApi } from './openapi.js';
import { requestIdOf } from './request-id.js';
import { requestLogging } from './request-logging.js';
import { requestText } from './request-text.js';
import { clientErrorHandler, protocolRequirements } from './http-parser-errors.js';
import { SECURITY_HEADERS, securityHeaders } from './security-headers.js';
import { LazySchemaCompilers } from './schema-compilers.js';
import { DEFAULT_GALLERY_DIR, galleryPage } from './gallery-page.js';
import { apiKeyRoutes } from './routes/api-key-routes.js';
import { generationOptionsRoutes } from './routes/generation-options-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { jobRoutes } from './routes/job-routes.js';
import { openAIRoutes } from './routes/openai-routes.js';
import type { ReadinessCheck } from './routes/readiness-check.js';
import { privateImageRoutes } from './routes/private-image-routes.js';
import { publicImageRoutes, type ContentDeliveryOptions } from './routes/public-image-routes.js';

/** What the app calls, built by the composition root (cli/compose.ts), which also closes them. */
export interface AppServices {
  publicImages: PublicImageService;
  privateImages: PrivateImageService;
  /** POST /image as generation jobs (sync or `Prefer: respond-async`), Idempotency-Key, GET /jobs/{id}. */
  creation: ImageCreationService;
  /** The login call of the private routes; it carries the failed-login limits. */
  access: AccessService;
  /** The caller's own API keys (/me/keys). */
  apiKeys: ApiKeyService;
  /** Usage ledger, cost and quotas (GET /usage, GET /me). */
  metering: MeteringService;
  readiness: ReadinessCheck;
  /** Thumbnails and format variants for `GET /image/{guid}/content?w=`. */
  imageVariants: ImageVariants;
}

export interface AppOptions {
  /** Creates allowed per user per minute (CREATE_RATE_LIMIT). */
  createRateLimit: number;
  /** A pino logger; the app logs nothing when absent. */
  logger?: FastifyBaseLogger;
  /** Whether X-Forwarded-For is believed (true, or a list of proxy addresses/CIDRs); see docs/SECURITY.md. */
  trustProxy?: boolean | string;
  version?: string;
  /**
   * With REDIS_URL: the create rate limit's counters in Redis (shared by every instance). Absent:
   * in this process. Built by the composition root; `skipOnError` stays off, so Redis down is a 503.
   */
  rateLimitStore?: FastifyRateLimitStoreCtor;
  /** The built gallery page (index.html + assets/); `ui/dist` of this checkout when absent. */
  galleryDir?: string;
  /** CONTENT_DELIVERY and PRESIGN_EXPIRES_SECONDS; streamed when absent. */
  contentDelivery?: ContentDeliveryOptions;
  /** PUBLIC_BASE_URL: the origin of the image URLs /v1 answers; derived from each request when absent. */
  publicBaseUrl?: string | undefined;
  /** The image models /v1 clients may choose, the default first (default: the local generator's). */
  imageModels?: readonly string[];
  /** What GET /image/options answers (cli/compose.ts `generationOptionsOf`); derived from `imageModels` when absent. */
  generationOptions?: GenerationOptions;
}

export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The whole HTTP API as a Fastify instance, built from services the caller owns (and closes). It
 * constructs nothing stateful itself: every limiter, cache and connection comes in through `services`.
 */
export async function buildApp(services: AppServices, options: AppOptions): Promise<FastifyInstance> {
  let appLog: FastifyBaseLogger | undefined;
  const compilers = new LazySchemaCompilers();
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdOf,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Parameters longer than the router's default (100) would be answered by Fastify itself with a
    // plain 414; let them reach the route, whose schema refuses them as a 400 problem.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    frameworkErrors: frameworkErrorHandler,
    // Node's parser refusals (431, 414, 400, 408) become problem+json too; see http-parser-errors.ts.
    clientErrorHandler: clientErrorHandler(SECURITY_HEADERS, () => appLog!),
    // A missing Host is refused by our hook, as a problem, instead of by Node with a bare 400.
    http: { requireHostHeader: false },
    // Serialisers and validators are compiled on each route's first use, validators by TypeBox in
    // every plugin (see schema-compilers.ts and the comment on validation below).
    schemaController: { compilersFactory: { buildValidator: compilers.buildValidator, buildSerializer: compilers.buildSerializer } },
  });
  appLog = app.log;
  // TypeBox validates with the same compiled schemas the services use: unknown properties are
  // rejected (Ajv's Fastify defaults drop them) and body values are never coerced, while
  // querystring and path values are converted from strings (path parameters that are strings
  // already are not; see validator-compiler.ts).
  app.decorate('compileSchemas', () => compilers.compileAll());
  // JSON is the only body the API takes; Fastify's built-in text/plain parser would turn a text body
  // into a string that fails validation with 400 instead of the 415 the API promises.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('user', null);
  app.decorateRequest('authScheme', null);
  app.addSchema(ImageDetailSchema);
  app.addSchema(ImageListSchema);
  app.addSchema(ProblemSchema);
  app.addSchema(ApiKeySchema);
  app.addSchema(ApiKeyListSchema);
  app.addSchema(CreatedApiKeySchema);
  app.addSchema(JobSchema);
  app.addSchema(UsageReportSchema);
  app.addSchema(MeSchema);
  app.addSchema(ModelOptionsSchema);
  app.addSchema(GenerationOptionsSchema);

  await app.register(requestLogging);
  await app.register(bodilessRequests);
  await app.register(requestText);
  await app.register(errorHandler);
  await app.register(securityHeaders);
  await app.register(protocolRequirements);
  // Only what asks for a limit is limited: the create budget below, shared by both create routes.
  await app.register(rateLimit, { global: false, ...(options.rateLimitStore && { store: options.rateLimitStore }) });
  const createRateLimit = createRateLimitOf(app, options.createRateLimit);
  await app.register(openApi, { version: options.version ?? '0.0.0' });
  await app.register(healthRoutes, { readiness: services.readiness });
  await app.register(galleryPage, { dir: options.galleryDir ?? DEFAULT_GALLERY_DIR });
  const imageModels = options.imageModels ?? ['local'];
  // Before the public image routes only for reading order: `/image/options` is a static path, which
  // the router prefers to `/image/:guid` whatever the order.
  await app.register(generationOptionsRoutes, {
    prefix: '/image',
    options: options.generationOptions ?? describeImageOptions({ defaultModel: imageModels[0]!, allowedModels: imageModels }, undefined),
  });
  await app.register(publicImageRoutes, {
    prefix: '/image',
    images: services.publicImages,
    variants: services.imageVariants,
    ...(options.contentDelivery && { contentDelivery: options.contentDelivery }),
  });
  await app.register(privateImageRoutes, {
    prefix: '/image',
    images: services.privateImages,
    creation: services.creation,
    access: services.access,
    createRateLimit,
  });
  await app.register(jobRoutes, { prefix: '/jobs', creation: services.creation, access: services.access });
  await app.register(usageRoutes, { metering: services.metering, authenticate: authenticateRequest(services.access) });
  await app.register(apiKeyRoutes, { prefix: '/me/keys', access: services.access, apiKeys: services.apiKeys });
  await app.register(openAIRoutes, {
    prefix: '/v1',
    access: services.access,
    creation: services.creation,
    publicImages: services.publicImages,
    metering: services.metering,
    models: imageModels,
    publicBaseUrl: options.publicBaseUrl,
    createRateLimit,
  });
  return app;
}
