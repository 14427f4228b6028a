import { Type, type Static } from 'typebox';

/**
 * The wire shape of `GET /image/options`: which generation options this server lets a create choose,
 * per model, from its own policy (OPENAI_IMAGE_MODEL, OPENAI_IMAGE_MODELS, IMAGE_SIZE) and the
 * per-family rules that check `POST /image` (docs/API.md, "Image options"). A client (the gallery's
 * Generate form) offers exactly these, so what it offers is what the server accepts.
 */

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const oneOf = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((value) => Type.Literal(value)) as [ReturnType<typeof Type.Literal<T>>]);

/** One option's choices: `values` empty when the model has no such option; `default` null when the provider decides. */
const Choice = <T extends string>(values: readonly T[], description: string) =>
  Type.Object(
    {
      values: Type.Array(oneOf(values), { description: 'The values this model takes, in the order to offer them; empty: not an option of this model' }),
      default: nullable(oneOf(values)),
    },
    { additionalProperties: false, description },
  );

export const ModelOptionsSchema = Type.Object(
  {
    model: Type.String({ description: 'The model name to send as `model`' }),
    max_prompt_length: Type.Integer({ minimum: 1, description: 'Longest prompt this model takes, in UTF-16 code units' }),
    size: Type.Object(
      {
        values: Type.Array(Type.String(), {
          description: 'Sizes to offer (`WIDTHxHEIGHT` or `auto`): all of them for a model with fixed sizes, common ones when `rule` allows more',
        }),
        default: nullable(Type.String({ description: 'The size a create without `size` gets; null: the provider decides' })),
        rule: nullable(Type.String({ description: 'For a model that takes any size within limits, those limits in words; null: only `values`' })),
      },
      { additionalProperties: false },
    ),
    quality: Choice(['standard', 'hd', 'low', 'medium', 'high', 'auto'] as const, '`quality`'),
    background: Choice(['transparent', 'opaque', 'auto'] as const, '`background`'),
    output_format: Choice(['png', 'jpeg', 'webp'] as const, '`output_format`; empty values: the model answers PNG'),
    moderation: Choice(['low', 'auto'] as const, '`moderation`'),
    style: Choice(['vivid', 'natural'] as const, '`style`'),
    output_compression: Type.Boolean({ description: 'Whether `output_compression` (0-100, with jpeg or webp) is an option' }),
  },
  { additionalProperties: false, $id: 'ModelOptions' },
);
export type ModelOptions = Static<typeof ModelOptionsSchema>;

export const GenerationOptionsSchema = Type.Object(
  {
    default_model: Type.String({ description: 'The model a create without `model` gets' }),
    models: Type.Array(Type.Ref('ModelOptions'), { description: 'Every model a create may name, the default first' }),
  },
  { additionalProperties: false, $id: 'GenerationOptions' },
);
export interface GenerationOptions {
  default_model: string;
  models: ModelOptions[];
}
