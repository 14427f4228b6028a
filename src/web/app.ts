import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import { ImageDetailSchema, ImageListSchema } from '../core/models/image.js';
import { ProblemSchema } from '../core/models/problem.js';
import type { PrivateImageService } from '../service/private-image-service.js';
import type { PublicImageService } from '../service/public-image-service.js';
import type { ReadinessService } from '../service/readiness-service.js';
import type { UserService } from '../service/user-service.js';
import { errorHandler } from './error-handler.js';
import './fastify-types.js';
import { openApi } from './openapi.js';
import { requestIdOf } from './request-id.js';
import { requestLogging } from './request-logging.js';
import { healthRoutes } from './routes/health-routes.js';
import { privateImageRoutes } from './routes/private-image-routes.js';
import { publicImageRoutes } from './routes/public-image-routes.js';

export interface AppServices {
  publicImages: PublicImageService;
  privateImages: PrivateImageService;
  users: UserService;
  readiness: ReadinessService;
}

export interface AppOptions {
  /** A pino logger; the app logs nothing when absent. */
  logger?: FastifyBaseLogger;
  trustProxy?: boolean | string;
  version?: string;
}

export const BODY_LIMIT_BYTES = 64 * 1024;

/** The whole HTTP API as a Fastify instance, built from services the caller owns (and closes). */
export async function buildApp(services: AppServices, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdOf,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
  });
  // TypeBox validates with the same compiled schemas the services use: unknown properties are
  // rejected (Ajv's Fastify defaults drop them) and body values are never coerced, while
  // querystring and path values are converted from strings.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // Fastify parses text/plain by default; the API takes JSON only, so anything else is a 415.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('user', null);
  app.addSchema(ImageDetailSchema);
  app.addSchema(ImageListSchema);
  app.addSchema(ProblemSchema);

  await app.register(requestLogging);
  await app.register(errorHandler);
  await app.register(openApi, { version: options.version ?? '0.0.0' });
  await app.register(healthRoutes, { readiness: services.readiness });
  await app.register(publicImageRoutes, { prefix: '/image', images: services.publicImages });
  await app.register(privateImageRoutes, { prefix: '/image', images: services.privateImages, users: services.users });
  return app;
}
