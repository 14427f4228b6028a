import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ImageDetailCreateSchema, ImageDetailUpdateSchema } from '../../core/models/image.js';
import type { AccessService } from '../../service/access/index.js';
import {
  createImageCommand,
  updateTagsCommand,
  type ImageCreationService,
  type PrivateImageService,
} from '../../service/images/index.js';
import { authenticateRequest } from '../authentication.js';
import type { CreateRateLimit } from '../create-rate-limit.js';
import { JOB_POLL_SECONDS, jobBody } from './job-routes.js';
import { authResponses, GuidParams, problem, problemResponses } from './route-schemas.js';

export interface PrivateRoutesOptions {
  images: PrivateImageService;
  creation: ImageCreationService;
  access: AccessService;
  /** CREATE_RATE_LIMIT, the per-user budget shared with POST /v1/images/generations. */
  createRateLimit: CreateRateLimit;
}

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

/** True when a Prefer header (RFC 7240 section 2) asks for `respond-async`; other preferences are ignored. */
export function prefersRespondAsync(header: string | string[] | undefined): boolean {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.some((value) =>
    value.split(',').some((preference) => preference.split(';')[0]?.trim().toLowerCase() === 'respond-async'),
  );
}

const CreateHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: '1-255 printable ASCII characters; the same key with the same body replays the first response (24 hours, per user)' }),
  ),
  prefer: Type.Optional(Type.String({ description: '`respond-async`: answer 202 with the job once it is accepted (RFC 7240)' })),
});

/** Writes, behind HTTP Basic auth or an API key (Bearer); the authenticated user is the author. */
export async function privateImageRoutes(instance: FastifyInstance, opts: PrivateRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', authenticateRequest(opts.access));

  app.post(
    '/',
    {
      // Every create may cost money at the provider: counted per user, after auth, body validation
      // and the model's option rules, so only requests that would really generate use up the allowance.
      preHandler: [async (request) => opts.creation.checkOptions(createImageCommand(request.body)), opts.createRateLimit],
      schema: {
        operationId: 'createImage',
        tags: ['images'],
        summary: 'Generate an image from a prompt',
        description:
          'Synchronous by default: answers 201 once the image exists. With `Prefer: respond-async` it answers 202 once the ' +
          'generation job is accepted, with `Location: /jobs/{id}`. With `Idempotency-Key` a repeat of the same request ' +
          '(same user, key and body, within 24 hours) replays the first response with `Idempotent-Replayed: true` instead ' +
          'of generating again.',
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
        headers: CreateHeaders,
        body: ImageDetailCreateSchema,
        response: {
          201: Type.Ref('ImageDetail', { description: 'Created; `Location` names the new image' }),
          202: Type.Ref('Job', { description: 'Accepted (`Prefer: respond-async`); `Location` names the job, poll it after `Retry-After` seconds' }),
          ...authResponses,
          409: problem('A request with this Idempotency-Key is still running (`IdempotencyKeyInUseError`); retry later'),
          ...bodyResponses,
          429: problem('Too many failed logins from this client, too many creates by this user (`TooManyRequestsError`), or a quota of this user reached (`QuotaExceededError`); `Retry-After`'),
          ...problemResponses,
          ...generationResponses,
          422: problem(
            'The image provider refused the prompt (`PromptRejectedError`), or the Idempotency-Key was used with a different body (`IdempotencyKeyReusedError`)',
          ),
        },
      },
    },
    async (request, reply) => {
      const result = await opts.creation.create({
        author: request.user!,
        command: createImageCommand(request.body),
        idempotencyKey: request.headers['idempotency-key'],
        respondAsync: prefersRespondAsync(request.headers.prefer),
      });
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      switch (result.kind) {
        case 'created':
          return reply.code(201).header('location', `${app.prefix}/${result.image.guid}`).send(result.image);
        case 'accepted':
          return reply
            .code(202)
            .header('location', `/jobs/${result.job.id}`)
            .header('retry-after', String(JOB_POLL_SECONDS))
            .header('preference-applied', 'respond-async')
            .send(jobBody(result.job, request.id));
        case 'failed':
          throw result.error;
      }
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
