import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ImageDetailCreateSchema } from '../../core/models/image.js';
import type { PrivateImageService } from '../../service/private-image-service.js';
import type { UserService } from '../../service/user-service.js';
import { basicAuth } from '../basic-auth.js';
import { problem, problemResponses } from './route-schemas.js';

export interface PrivateRoutesOptions {
  images: PrivateImageService;
  users: UserService;
}

export const authResponses = {
  401: problem('Missing or wrong HTTP Basic credentials (with `WWW-Authenticate`)'),
};

/** How image generation fails; docs/GENERATION.md has the whole table. */
const generationResponses = {
  422: problem('The image provider refused the prompt (`PromptRejectedError`); `detail` carries its reason'),
  502: problem('The image provider failed, rejected our key or answered with something that is not an image (`ImageGenerationError`)'),
  503: problem(
    'Database unavailable (`DBConnectionError`), generation queue full or image provider busy (`ServiceUnavailableError`); retry after `Retry-After` seconds',
  ),
  504: problem('The image provider did not answer within OPENAI_TIMEOUT_MS (`GenerationTimeoutError`)'),
};

/** Writes, behind HTTP Basic auth; the authenticated user is the author. */
export async function privateImageRoutes(instance: FastifyInstance, opts: PrivateRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', basicAuth(opts.users));

  app.post(
    '/',
    {
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
          ...problemResponses,
          ...generationResponses,
        },
      },
    },
    async (request, reply) => {
      const detail = await opts.images.create(request.user!, request.body);
      return reply.code(201).header('location', `${app.prefix}/${detail.guid}`).send(detail);
    },
  );
}
