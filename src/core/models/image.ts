import { Type, type Static } from 'typebox';

export const PROMPT_MAX_LENGTH = 4000;
export const TAG_MAX_LENGTH = 64;
export const TAGS_MAX_ITEMS = 20;
export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 200;

/** Lowercase UUID v4, the only form a guid takes on the wire. */
export const GuidSchema = Type.String({
  format: 'uuid',
  description: 'Image identifier, a lowercase UUID v4',
  examples: ['3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41'],
});

const NOT_BLANK = '\\S';
// Tags are labels for filtering; control characters in them are always a client bug. The one
// required visible character is itself kept out of the control range (`\S` alone would admit one).
const TAG_PATTERN = '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$';

/**
 * The patterns whose only rule is "not blank, no control characters" (prompts, tags, the tag and author
 * filters): a refusal by one of them is worded as that rule; any other pattern is named as it is.
 */
export const TEXT_PATTERNS: ReadonlySet<string> = new Set([NOT_BLANK, TAG_PATTERN]);

export const PromptSchema = Type.String({
  minLength: 1,
  maxLength: PROMPT_MAX_LENGTH,
  pattern: NOT_BLANK,
  description: 'Text prompt; surrounding whitespace is removed',
});

export const TagSchema = Type.String({
  minLength: 1,
  maxLength: TAG_MAX_LENGTH,
  pattern: TAG_PATTERN,
  description: 'Tag; trimmed and lower-cased on input',
});

export const TagsSchema = Type.Array(TagSchema, {
  maxItems: TAGS_MAX_ITEMS,
  description: `At most ${TAGS_MAX_ITEMS} tags; duplicates (after normalisation) are dropped`,
});

const options = <T extends string>(values: readonly T[], description: string) =>
  Type.Optional(Type.Union(values.map((value) => Type.Literal(value)) as [ReturnType<typeof Type.Literal<T>>], { description }));

/**
 * The Images API's generation options (OpenAI API reference, "Create image"). Which of them a model
 * takes is checked per model family after this schema (docs/API.md, "Image options").
 */
export const ImageOptionsSchema = Type.Object({
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "Model to generate with; one of the server's allow-list. Default: the configured model" })),
  size: Type.Optional(Type.String({ pattern: '^(auto|[1-9][0-9]{0,4}x[1-9][0-9]{0,4})$', description: 'WIDTHxHEIGHT (or `auto`); which sizes depends on the model' })),
  quality: options(['standard', 'hd', 'low', 'medium', 'high', 'auto'] as const, '`low`/`medium`/`high`/`auto` for GPT image models, `standard`/`hd` for dall-e-3'),
  background: options(['transparent', 'opaque', 'auto'] as const, 'GPT image models; `transparent` needs png or webp'),
  output_format: options(['png', 'jpeg', 'webp'] as const, 'Format of the image (GPT image models and the local generator)'),
  output_compression: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: '0-100, only with jpeg or webp' })),
  moderation: options(['low', 'auto'] as const, 'Content-moderation level (GPT image models)'),
  style: options(['vivid', 'natural'] as const, 'dall-e-3 only'),
});

/** Body of POST /image. */
export const ImageDetailCreateSchema = Type.Object(
  {
    prompt: PromptSchema,
    tags: Type.Optional(TagsSchema),
    ...ImageOptionsSchema.properties,
  },
  { additionalProperties: false, $id: 'ImageDetailCreate' },
);
export type ImageDetailCreate = Static<typeof ImageDetailCreateSchema>;

/** Body of PATCH /image/{guid}. */
export const ImageDetailUpdateSchema = Type.Object(
  { tags: TagsSchema },
  { additionalProperties: false, $id: 'ImageDetailUpdate' },
);
export type ImageDetailUpdate = Static<typeof ImageDetailUpdateSchema>;

const Timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-11-25T09:30:00.123Z'] });
// `type: ['string', 'null']` (JSON Schema / OpenAPI 3.1) rather than anyOf: fast-json-stringify
// serialises a type list with a typeof check, but an anyOf by running Ajv on the value, per field.
const NullableString = (description: string) => Type.Unsafe<string | null>({ type: ['string', 'null'], description });

/** Which store holds an image's bytes: the local file store or the S3 bucket (IMAGE_STORE). */
export const ImageStoreKindSchema = Type.Union([Type.Literal('file'), Type.Literal('s3')]);
export type ImageStoreKind = Static<typeof ImageStoreKindSchema>;

/**
 * The one shape of a stored image, in the wire and column spelling (snake_case). Every other shape
 * is derived from it: the detail a client sees, the insert input, the content info. The data layer
 * maps rows to it in one place (`data/image-row.ts`).
 */
export const StoredImageSchema = Type.Object({
  guid: GuidSchema,
  prompt: Type.String({ description: 'The prompt the image was generated from' }),
  filename: Type.String({ description: 'Name of the stored file: `{guid}` and `.png`, `.jpg` or `.webp` by the media type' }),
  tags: Type.Array(Type.String(), { description: 'Normalised tags, sorted' }),
  author: Type.String({ description: 'Username of the creator' }),
  content_type: Type.String({ description: 'Media type of the bytes', examples: ['image/png'] }),
  byte_size: Type.Integer({ minimum: 0, description: 'Size of the bytes' }),
  sha256: Type.String({ description: 'Hex SHA-256 of the bytes; the strong ETag of the content' }),
  object_store: ImageStoreKindSchema,
  object_key: Type.String({ description: 'Where the bytes are in that store: the file name, or the S3 key with its prefix' }),
  model: NullableString('Model that generated the image (`local` for the built-in generator)'),
  size: NullableString('Pixel size as WIDTHxHEIGHT'),
  revised_prompt: NullableString('Prompt as rewritten by the provider, when it reports one'),
  quality: NullableString('Quality as the provider reports it (else as requested), e.g. `high`, `hd`; null when neither says'),
  background: NullableString('Background as the provider reports it (else as requested): `transparent`, `opaque` or `auto`'),
  output_format: NullableString('Format of the bytes: `png`, `jpeg` or `webp`'),
  created_at: Timestamp('Creation time, RFC 3339 UTC'),
  updated_at: Timestamp('Last change, RFC 3339 UTC'),
});
export type StoredImage = Static<typeof StoredImageSchema>;

/**
 * The wire detail (GET /image/{guid}, list items, create and update answers): the stored image without
 * its hash (only the content's ETag carries it) and without where its bytes are (an operator's concern).
 */
export const ImageDetailSchema = Type.Omit(StoredImageSchema, ['sha256', 'object_store', 'object_key'], { $id: 'ImageDetail' });
export type ImageDetail = Static<typeof ImageDetailSchema>;

/** The detail of a stored image: everything but the hash and the bytes' location. */
export function imageDetailOf(image: StoredImage): ImageDetail {
  // Spelled out rather than a rest copy (`{ sha256, ...detail }`), which V8 builds key by key: a
  // listing page maps up to 200 of these per request.
  return {
    guid: image.guid,
    prompt: image.prompt,
    filename: image.filename,
    tags: image.tags,
    author: image.author,
    content_type: image.content_type,
    byte_size: image.byte_size,
    model: image.model,
    size: image.size,
    revised_prompt: image.revised_prompt,
    quality: image.quality,
    background: image.background,
    output_format: image.output_format,
    created_at: image.created_at,
    updated_at: image.updated_at,
  };
}

/** Where one image's bytes are: the store a row names and the key within it. */
export const ObjectLocationSchema = Type.Pick(StoredImageSchema, ['object_store', 'object_key']);
export type ObjectLocation = Static<typeof ObjectLocationSchema>;

/** What a repository inserts for a new image: `updated_at` starts equal to `created_at`. */
export const NewImageSchema = Type.Omit(StoredImageSchema, ['updated_at']);
export type NewImage = Static<typeof NewImageSchema>;

/** What a content request needs before any byte is read (validators, length, media type). */
export const ContentInfoSchema = Type.Pick(StoredImageSchema, [
  'guid', 'filename', 'content_type', 'byte_size', 'sha256', 'created_at', 'object_store', 'object_key',
]);
export type ContentInfo = Static<typeof ContentInfoSchema>;

export const ImageListSchema = Type.Array(Type.Ref('ImageDetail'), { $id: 'ImageList' });

export const ImageListQuerySchema = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT, description: 'Page size' }),
    ),
    after: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'Opaque cursor from the previous page\'s `Link: rel="next"`' }),
    ),
    tag: Type.Optional(TagSchema),
    author: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only images by this username' })),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description:
          'Full-text search over prompt and revised prompt: every word must match (case-insensitive, accent-insensitive on SQLite and with MySQL/MariaDB\'s Unicode collation); a "quoted phrase" matches as a phrase',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ImageListQuery = Static<typeof ImageListQuerySchema>;

/** One page of a keyset-paginated listing. */
export interface ImagePage {
  images: ImageDetail[];
  /** Cursor for the next page, absent on the last one. */
  nextCursor?: string;
}
