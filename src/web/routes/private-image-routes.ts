import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { TooManyRequestsError } from '../../core/errors.js';
import { ImageDetailCreateSchema, ImageDetailUpdateSchema } from '../../core/models/image.js';
import type { AccessService } from '../../service/access/index.js';
import { createImageCommand, updateTagsCommand, type PrivateImageService } from '../../service/images/index.js';
import { authenticateRequest } from '../authentication.js';
import { GuidParams, problem, problemResponses } from './route-schemas.js';

export interface PrivateRoutesOptions {
  images: PrivateImageService;
  access: AccessService;
  /** Creates allowed per user per minute. */
  createRateLimit: number;
}

export const authResponses = {
  401: problem('Missing or wrong HTTP Basic credentials, or an unknown, expired or revoked API key (with `WWW-Authenticate`)'),
};

const bodyResponses = {
  413: problem('The body is over 64 KiB'),
  415: problem('The body is not application/json'),
};

/** What PATCH and DELETE on an existing image can answer besides success. */
const existingImageResponses = {
  ...authResponses,
  403: problem('The caller is neither the author of the image nor an admin (`OperationNotAllowedError`)'),
  404: problem('No image has this guid (also after it was deleted)'),
  ...bodyResponses,
  // The failed-login limit guards the whole private router, so these can answer 429 too.
  429: problem('Too many failed logins from this client or against this username (`Retry-After`)'),
  ...problemResponses,
};

const OWNERSHIP_RULE = 'Only the author of the image or an admin may do this; anyone else gets 403.';

/** How image generation fails; docs/API.md (POST /image) has the whole table. */
const generationResponses = {
  422: problem('The image provider refused the prompt (`PromptRejectedError`); `detail` carries its reason'),
  502: problem('The image provider failed, rejected our key or answered with something that is not an image (`ImageGenerationError`)'),
  503: problem(
    'Database unavailable (`DBConnectionError`), generation queue full or image provider busy (`ServiceUnavailableError`); retry after `Retry-After` seconds',
  ),
  504: problem('The image provider did not answer within OPENAI_TIMEOUT_MS (`GenerationTimeoutError`)'),
};

/** Writes, behind HTTP Basic auth or an API key (Bearer); the authenticated user is the author. */
export async function privateImageRoutes(instance: FastifyInstance, opts: PrivateRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', authenticateRequest(opts.access));

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
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        body: ImageDetailCreateSchema,
        response: {
          201: Type.Ref('ImageDetail', { description: 'Created; `Location` names the new image' }),
          ...authResponses,
          ...bodyResponses,
          429: problem('Too many failed logins from this client, too many creates by this user (`TooManyRequestsError`), or a quota of this user reached (`QuotaExceededError`); `Retry-After`'),
          ...problemResponses,
          ...generationResponses,
        },
      },
    },
    async (request, reply) => {
      // The body was validated by the route schema, once; here it becomes the typed command.
      const detail = await opts.images.create(request.user!, createImageCommand(request.body));
      return reply.code(201).header('location', `${app.prefix}/${detail.guid}`).send(detail);
    },
  );

  app.patch(
    '/:guid',
    {
      schema: {
        operationId: 'updateImageTags',
        tags: ['images'],
        summary: "Replace an image's tags",
        description: `The new set replaces the old one (same rules as on create) and \`updated_at\` advances. ${OWNERSHIP_RULE}`,
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        params: GuidParams,
        body: ImageDetailUpdateSchema,
        response: {
          200: Type.Ref('ImageDetail', { description: 'The image with its new tags' }),
          ...existingImageResponses,
        },
      },
    },
    async (request) => opts.images.updateTags(request.user!, request.params.guid, updateTagsCommand(request.body)),
  );

  app.delete(
    '/:guid',
    {
      schema: {
        operationId: 'deleteImage',
        tags: ['images'],
        summary: 'Delete an image and its bytes',
        description: `Afterwards the image and its content answer 404 and it is gone from listings. ${OWNERSHIP_RULE}`,
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        params: GuidParams,
        response: {
          204: Type.Null({ description: 'Deleted; the body is empty' }),
          ...existingImageResponses,
        },
      },
    },
    async (request, reply) => {
      await opts.images.delete(request.user!, request.params.guid);
      return reply.code(204).send(null);
    },
  );
}
