import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EndpointNotFoundError } from '../../core/errors.js';
import type { ImageDetail, ImageDetailCreate } from '../../core/models/image.js';
import type { User } from '../../core/models/user.js';
import {
  OpenAIErrorSchema,
  OpenAIImageGenerateSchema,
  OpenAIImageSchema,
  OpenAIImagesResponseSchema,
  OpenAIModelListSchema,
  type OpenAIImage,
  type OpenAIImageGenerate,
  type OpenAIImagesResponse,
  type OpenAIImagesUsage,
} from '../../core/models/openai-images.js';
import type { TokenUsage } from '../../core/models/usage.js';
import type { AccessService } from '../../service/access/index.js';
import { familyRulesOf } from '../../service/generation/index.js';
import { createImageCommand, type CreateImageCommand, type ImageCreationService, type PublicImageService } from '../../service/images/index.js';
import type { MeteringService } from '../../service/metering/index.js';
import { authenticateRequest } from '../authentication.js';
import type { CreateRateLimit } from '../create-rate-limit.js';
import { sendOpenAIError } from '../openai-error.js';

export interface OpenAIRoutesOptions {
  access: AccessService;
  /** The create of POST /image (generation job, quotas, ledger, global concurrency), synchronous. */
  creation: ImageCreationService;
  publicImages: PublicImageService;
  /** The usage ledger, for the `usage` of a response. */
  metering: MeteringService;
  /** The models clients may choose, the default first (GET /v1/models lists them). */
  models: readonly string[];
  /** PUBLIC_BASE_URL without a trailing slash; undefined: derived from each request. */
  publicBaseUrl: string | undefined;
  /** CREATE_RATE_LIMIT, the per-user budget shared with POST /image (one count per request, whatever its n). */
  createRateLimit: CreateRateLimit;
}

/** One synchronous create through ImageCreationService, as POST /image without Prefer or Idempotency-Key. */
async function createOne(creation: ImageCreationService, author: User, command: CreateImageCommand): Promise<ImageDetail> {
  const result = await creation.create({ author, command, respondAsync: false });
  switch (result.kind) {
    case 'created':
      return result.image;
    case 'failed':
      throw result.error;
    case 'accepted':
      // A synchronous create waits for its job; an accepted answer here is a bug, not a client error.
      throw new Error('A synchronous create answered with an accepted job');
  }
}

const openAIError = (description: string) => ({ ...OpenAIErrorSchema, description });

const errorResponses = {
  400: openAIError('Invalid request: `param` names the field (`invalid_request_error`); a refused prompt has code `content_policy_violation`'),
  401: openAIError('Missing, unknown, expired or revoked API key (`invalid_api_key`, with `WWW-Authenticate: Bearer`)'),
  429: openAIError('Too many failed logins or creates (`rate_limit_exceeded`), or a quota is used up (`insufficient_quota`); `Retry-After`'),
  500: openAIError('Unexpected server fault (`server_error`)'),
  502: openAIError('The image provider failed (`server_error`)'),
  503: openAIError('Database or image provider unavailable, or the generation queue is full (`server_error`); `Retry-After`'),
  504: openAIError('The image provider did not answer in time (`server_error`)'),
};

/**
 * The create command for each of the `n` images: the command POST /image makes from the same
 * options, so the same per-model rules check it (in the images room, before any quota is held or
 * provider called; refusals name `/body/<field>`). OpenAI's own fields (n, response_format, user,
 * stream) stay at this edge: `user` is the client's end-user id and never the author.
 */
function commandOf(body: OpenAIImageGenerate): CreateImageCommand {
  const { prompt, n: _n, response_format: _format, user: _user, stream: _stream, ...options } = body;
  // OpenAI's SDKs send null for "not set"; the rules see only what was set.
  const set = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== null && value !== undefined));
  return createImageCommand({ prompt, ...set } as ImageDetailCreate);
}

/**
 * What OpenAI answers when the request names no `response_format`: base64 for the GPT image models
 * (they have no URLs), a URL for the others. Clients written for either keep working unchanged.
 */
function defaultResponseFormat(model: string): 'url' | 'b64_json' {
  const family = familyRulesOf(model)?.name;
  return family === 'gpt-image' || family === 'gpt-image-2' ? 'b64_json' : 'url';
}

/**
 * OpenAI's `usage` for a response: the ledger's token counts of its images, summed (OpenAI reports
 * the split into text and image tokens; a provider that gave none counts as 0). Undefined when no
 * image has a ledger row.
 */
function usageOf(usages: ReadonlyArray<TokenUsage | undefined>): OpenAIImagesUsage | undefined {
  const known = usages.filter((usage): usage is TokenUsage => usage !== undefined);
  if (known.length === 0) return undefined;
  const sum = (pick: (usage: TokenUsage) => number | null) => known.reduce((total, usage) => total + (pick(usage) ?? 0), 0);
  return {
    input_tokens: sum((u) => u.input_tokens),
    output_tokens: sum((u) => u.output_tokens),
    total_tokens: sum((u) => u.total_tokens),
    input_tokens_details: { image_tokens: sum((u) => u.input_image_tokens), text_tokens: sum((u) => u.input_text_tokens) },
    output_tokens_details: { image_tokens: sum((u) => u.output_image_tokens), text_tokens: sum((u) => u.output_text_tokens) },
  };
}

/** The origin the image URLs are built on: PUBLIC_BASE_URL, else the request's own (honouring TRUST_PROXY). */
function baseUrlOf(request: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${request.protocol}://${request.host}`;
}

async function bytesOf(images: PublicImageService, guid: string): Promise<Buffer> {
  const info = await images.getContentInfo(guid);
  const content = await images.openContent(info);
  // The content cache answers the bytes themselves; a store answers a stream.
  if (Buffer.isBuffer(content)) return content;
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The OpenAI Images API under /v1, for OpenAI clients (SDKs, chat front-ends) pointed at pixyproxy
 * with a pixyproxy API key: every image they generate is catalogued as its own ImageDetail, authored
 * by the key's user. Errors here use OpenAI's error body, so the clients raise their usual exceptions.
 */
export async function openAIRoutes(instance: FastifyInstance, opts: OpenAIRoutesOptions) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(OpenAIImageSchema);
  app.setErrorHandler((error, request, reply) => sendOpenAIError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendOpenAIError(new EndpointNotFoundError(`No endpoint ${request.method} ${request.url.split('?')[0]}`), request, reply),
  );
  app.addHook('onRequest', authenticateRequest(opts.access));

  app.get(
    '/models',
    {
      schema: {
        operationId: 'listOpenAIModels',
        tags: ['openai'],
        summary: 'The image models clients may choose (OpenAI shape)',
        security: [{ bearerAuth: [] }],
        response: { 200: OpenAIModelListSchema, 401: errorResponses[401], 429: errorResponses[429], 500: errorResponses[500] },
      },
    },
    async () => ({
      object: 'list' as const,
      data: opts.models.map((id) => ({ id, object: 'model' as const, created: 0, owned_by: 'pixyproxy' })),
    }),
  );

  app.post(
    '/images/generations',
    {
      // The same per-user budget as POST /image: one user, one allowance, counted once the body and
      // its options for the model have passed.
      preHandler: [async (request) => opts.creation.checkOptions(commandOf(request.body as OpenAIImageGenerate)), opts.createRateLimit],
      schema: {
        operationId: 'createOpenAIImages',
        tags: ['openai'],
        summary: 'Generate images (OpenAI Images API), each catalogued as its own ImageDetail',
        security: [{ bearerAuth: [] }],
        body: OpenAIImageGenerateSchema,
        response: { 200: OpenAIImagesResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body: OpenAIImageGenerate = request.body;
      const command = commandOf(body);
      const model = body.model ?? opts.models[0]!;
      // Each image goes through the same create as POST /image (a generation job: quotas, ledger,
      // store, catalogue), at once: the queue's global concurrency bounds what reaches the provider.
      const settled = await Promise.allSettled(Array.from({ length: body.n ?? 1 }, () => createOne(opts.creation, request.user!, command)));
      const details = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed !== undefined) {
        // OpenAI answers all images or an error; the ones made are catalogued all the same, never lost.
        if (details.length > 0) request.log.warn({ guids: details.map((d) => d.guid) }, 'some images of a /v1 request were created before another failed');
        throw failed.reason;
      }
      const format = body.response_format ?? defaultResponseFormat(model);
      const base = baseUrlOf(request, opts.publicBaseUrl);
      const data: OpenAIImage[] = [];
      for (const detail of details) {
        data.push({
          ...(format === 'b64_json'
            ? { b64_json: (await bytesOf(opts.publicImages, detail.guid)).toString('base64') }
            : { url: `${base}/image/${detail.guid}/content` }),
          ...(detail.revised_prompt !== null && { revised_prompt: detail.revised_prompt }),
          guid: detail.guid,
        });
      }
      const response: OpenAIImagesResponse = { created: Math.floor(Date.now() / 1000), data };
      const size = details[0]?.size;
      if (size) response.size = size;
      const usage = usageOf(await Promise.all(details.map((detail) => opts.metering.usageOfImage(detail.guid))));
      if (usage !== undefined) response.usage = usage;
      return response;
    },
  );
}
