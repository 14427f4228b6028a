import { Type, type Static } from 'typebox';
import { GuidSchema, PromptSchema } from './image.js';

/**
 * The wire shapes of the OpenAI-compatible endpoints under /v1, as OpenAI's API reference and the
 * official SDK's types (openai 6, resources/images.d.ts) define them, so an OpenAI client cannot tell
 * pixyproxy from OpenAI. Where pixyproxy adds something (each image's guid) it is a field OpenAI
 * clients ignore.
 */

export const OPENAI_IMAGES_MAX_N = 10;

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const oneOf = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));

/**
 * Body of POST /v1/images/generations: OpenAI's ImageGenerateParams, non-streaming. The generation
 * options are those of POST /image (ImageOptionsSchema), each also accepting null as OpenAI's SDKs
 * send it; which of them a model takes is checked by the same per-model rules after this schema.
 */
export const OpenAIImageGenerateSchema = Type.Object(
  {
    prompt: PromptSchema,
    model: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 100, description: 'One of GET /v1/models; omitted: the default model' }))),
    n: Type.Optional(
      nullable(Type.Integer({ minimum: 1, maximum: OPENAI_IMAGES_MAX_N, description: 'Images to generate, 1-10; each is catalogued on its own' })),
    ),
    size: Type.Optional(
      nullable(Type.String({ pattern: '^(auto|[1-9][0-9]{0,4}x[1-9][0-9]{0,4})$', description: 'WIDTHxHEIGHT (or `auto`), as the model allows' })),
    ),
    quality: Type.Optional(nullable(oneOf(['standard', 'hd', 'low', 'medium', 'high', 'auto']))),
    background: Type.Optional(nullable(oneOf(['transparent', 'opaque', 'auto']))),
    output_format: Type.Optional(nullable(oneOf(['png', 'jpeg', 'webp']))),
    output_compression: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 100 }))),
    moderation: Type.Optional(nullable(oneOf(['low', 'auto']))),
    style: Type.Optional(nullable(oneOf(['vivid', 'natural']))),
    response_format: Type.Optional(nullable(oneOf(['url', 'b64_json']))),
    user: Type.Optional(
      Type.String({ maxLength: 256, description: "The client's end-user id. Not the author: the author is the API key's user" }),
    ),
    stream: Type.Optional(nullable(Type.Literal(false, { description: 'Streaming is not offered; only `false` is accepted' }))),
  },
  { additionalProperties: false, $id: 'OpenAIImageGenerate' },
);
export type OpenAIImageGenerate = Static<typeof OpenAIImageGenerateSchema>;

const OptionalString = (description: string) => Type.Optional(Type.String({ description }));

export const OpenAIImageSchema = Type.Object(
  {
    url: OptionalString('Absolute URL of the image bytes (`/image/{guid}/content`), when `response_format` is `url`'),
    b64_json: OptionalString('The image bytes in base64, when `response_format` is `b64_json`'),
    revised_prompt: OptionalString('The prompt as the provider rewrote it, when it reported one'),
    guid: Type.Optional({ ...GuidSchema, description: "pixyproxy's id of the catalogued image (an extra field OpenAI clients ignore)" }),
  },
  { $id: 'OpenAIImage' },
);
export type OpenAIImage = Static<typeof OpenAIImageSchema>;

const TokenCount = Type.Integer({ minimum: 0 });

/** Token usage summed over the images of one response, as OpenAI reports it for the GPT image models. */
export const OpenAIImagesUsageSchema = Type.Object({
  input_tokens: TokenCount,
  output_tokens: TokenCount,
  total_tokens: TokenCount,
  input_tokens_details: Type.Object({ image_tokens: TokenCount, text_tokens: TokenCount }),
  output_tokens_details: Type.Optional(Type.Object({ image_tokens: TokenCount, text_tokens: TokenCount })),
});
export type OpenAIImagesUsage = Static<typeof OpenAIImagesUsageSchema>;

/** OpenAI's ImagesResponse. */
export const OpenAIImagesResponseSchema = Type.Object(
  {
    created: Type.Integer({ description: 'Unix time (seconds) of the response' }),
    data: Type.Array(Type.Ref('OpenAIImage')),
    background: Type.Optional(Type.String()),
    output_format: Type.Optional(Type.String()),
    quality: Type.Optional(Type.String()),
    size: Type.Optional(Type.String()),
    usage: Type.Optional(OpenAIImagesUsageSchema),
  },
  { $id: 'OpenAIImagesResponse' },
);
export type OpenAIImagesResponse = Static<typeof OpenAIImagesResponseSchema>;

/** OpenAI's model list (GET /v1/models). */
export const OpenAIModelListSchema = Type.Object(
  {
    object: Type.Literal('list'),
    data: Type.Array(
      Type.Object({
        id: Type.String({ examples: ['gpt-image-1'] }),
        object: Type.Literal('model'),
        created: Type.Integer({ description: 'Unix time (seconds); 0, as pixyproxy does not know when a model was made' }),
        owned_by: Type.String({ examples: ['pixyproxy'] }),
      }),
    ),
  },
  { $id: 'OpenAIModelList' },
);
export type OpenAIModelList = Static<typeof OpenAIModelListSchema>;

/** OpenAI's error body: every failure under /v1 is answered with it instead of problem+json. */
export const OpenAIErrorSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({ examples: ['invalid_request_error'] }),
      param: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'The request field at fault, when one is' }),
      code: Type.Unsafe<string | null>({ type: ['string', 'null'], examples: ['invalid_api_key'] }),
    }),
  },
  { $id: 'OpenAIError' },
);
export type OpenAIError = Static<typeof OpenAIErrorSchema>;
