import rateLimit from '@fastify/rate-limit';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import { loadConfig, type Config } from '../core/config.js';
import { ImageDetailSchema, ImageListSchema } from '../core/models/image.js';
import { ProblemSchema } from '../core/models/problem.js';
import { AuthFailureLimiter } from '../service/auth-failure-limiter.js';
import type { PrivateImageService } from '../service/private-image-service.js';
import type { PublicImageService } from '../service/public-image-service.js';
import type { ReadinessService } from '../service/readiness-service.js';
import type { ImageVariants } from '../service/thumbnails/image-variants.js';
import type { UserService } from '../service/user-service.js';
import { errorHandler, frameworkErrorHandler } from './error-handler.js';
import './fastify-types.js';
import { openApi } from './openapi.js';
import { requestIdOf } from './request-id.js';
import { requestLogging } from './request-logging.js';
import { securityHeaders } from './security-headers.js';
import { DEFAULT_GALLERY_DIR, galleryPage } from './gallery-page.js';
import { healthRoutes } from './routes/health-routes.js';
import { meRoutes } from './routes/me-routes.js';
import { privateImageRoutes } from './routes/private-image-routes.js';
import { publicImageRoutes } from './routes/public-image-routes.js';

export interface AppServices {
  publicImages: PublicImageService;
  privateImages: PrivateImageService;
  users: UserService;
  readiness: ReadinessService;
  /** Thumbnails and format variants for `GET /image/{guid}/content?w=`. */
  imageVariants: ImageVariants;
}

/** The limits the app enforces, as configured (CREATE_RATE_LIMIT, AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS). */
export type RateLimits = Pick<Config, 'createRateLimit' | 'authFailureLimit' | 'authFailureWindowMs'>;

export interface AppOptions {
  /** A pino logger; the app logs nothing when absent. */
  logger?: FastifyBaseLogger;
  /** Whether X-Forwarded-For is believed (true, or a list of proxy addresses/CIDRs); see docs/SECURITY.md. */
  trustProxy?: boolean | string;
  version?: string;
  rateLimits?: RateLimits;
  /** The built gallery page (index.html + assets/); `ui/dist` of this checkout when absent. */
  galleryDir?: string;
}

/**
 * Content-Security-Policy for every response. The API itself answers JSON and images only; the
 * policy is written for the one HTML page, the /docs UI, which loads its scripts, styles and images
 * from this origin (plus inline styles and data: images that swagger-ui uses).
 */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

export const BODY_LIMIT_BYTES = 64 * 1024;

/** The whole HTTP API as a Fastify instance, built from services the caller owns (and closes). */
export async function buildApp(services: AppServices, options: AppOptions = {}): Promise<FastifyInstance> {
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
  });
  // TypeBox validates with the same compiled schemas the services use: unknown properties are
  // rejected (Ajv's Fastify defaults drop them) and body values are never coerced, while
  // querystring and path values are converted from strings.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON is the only body the API takes; Fastify's built-in text/plain parser would turn a text body
  // into a string that fails validation with 400 instead of the 415 the API promises.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('user', null);
  app.addSchema(ImageDetailSchema);
  app.addSchema(ImageListSchema);
  app.addSchema(ProblemSchema);
  // Without explicit limits the configuration's defaults apply, read from the one place that defines them.
  const limits = options.rateLimits ?? loadConfig({});

  await app.register(requestLogging);
  await app.register(errorHandler);
  await app.register(securityHeaders, {
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    // Images are meant to be embedded by other sites (<img src>); same-origin would block that.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  // Only routes that ask for a limit (config.rateLimit) are limited; see private-image-routes.ts.
  await app.register(rateLimit, { global: false });
  await app.register(openApi, { version: options.version ?? '0.0.0' });
  await app.register(healthRoutes, { readiness: services.readiness });
  await app.register(galleryPage, { dir: options.galleryDir ?? DEFAULT_GALLERY_DIR });
  await app.register(publicImageRoutes, { prefix: '/image', images: services.publicImages, variants: services.imageVariants });
  // One limiter for every route that checks a password, so /me cannot be used to guess around it.
  const authLimiter = new AuthFailureLimiter({ limit: limits.authFailureLimit, windowMs: limits.authFailureWindowMs });
  await app.register(privateImageRoutes, {
    prefix: '/image',
    images: services.privateImages,
    users: services.users,
    authLimiter,
    createRateLimit: limits.createRateLimit,
  });
  await app.register(meRoutes, { users: services.users, authLimiter });
  return app;
}
