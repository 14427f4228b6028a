import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { TooManyRequestsError } from '../../core/errors.js';
import { ImageDetailCreateSchema } from '../../core/models/image.js';
import type { AuthFailureLimiter } from '../../service/auth-failure-limiter.js';
import type { PrivateImageService } from '../../service/private-image-service.js';
import type { UserService } from '../../service/user-service.js';
import { basicAuth } from '../basic-auth.js';
import { problem, problemResponses } from './route-schemas.js';

export interface PrivateRoutesOptions {
  images: PrivateImageService;
  users: UserService;
  authLimiter: AuthFailureLimiter;
  /** Creates allowed per user per minute. */
  createRateLimit: number;
}

export const authResponses = {
  401: problem('Missing or wrong HTTP Basic credentials (with `WWW-Authenticate`)'),
};

/** Writes, behind HTTP Basic auth; the authenticated user is the author. */
export async function privateImageRoutes(instance: FastifyInstance, opts: PrivateRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', basicAuth(opts.users, opts.authLimiter));

  app.post(
    '/',
    {
      config: {
        // Every create may cost money at the provider: counted per user, after auth and body
        // validation, so only requests that would really generate use up the allowance.
        rateLimit: {
          max: opts.createRateLimit,
          timeWindow: 60_000,
          hook: 'preHandler',
          keyGenerator: (request) => `create:${request.user?.username ?? request.ip}`,
          errorResponseBuilder: (_request, context) =>
            new TooManyRequestsError(`At most ${context.max} images per minute may be created; try again later`, {
              retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
            }),
        },
      },
      schema: {
        operationId: 'createImage',
        tags: ['images'],
        summary: 'Generate an image from a prompt',
        security: [{ basicAuth: [] }],
        body: ImageDetailCreateSchema,
        response: {
          201: Type.Ref('ImageDetail', { description: 'Created; `Location` names the new image' }),
          ...authResponses,
          413: problem('The body is over 64 KiB'),
          415: problem('The body is not application/json'),
          429: problem('Too many failed logins from this client, or too many creates by this user (`Retry-After`)'),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const detail = await opts.images.create(request.user!, request.body);
      return reply.code(201).header('location', `${app.prefix}/${detail.guid}`).send(detail);
    },
  );
}
