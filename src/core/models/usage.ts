import { Type, type Static } from 'typebox';

/**
 * Token counts as the Images API reports them (`usage`, OpenAI API reference "The image generation
 * response"), with the text/image split where the provider gives it (null where it does not).
 */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_text_tokens: number | null;
  input_image_tokens: number | null;
  output_text_tokens: number | null;
  output_image_tokens: number | null;
}

/** One billed generation in the usage ledger. Money in nano-dollars (integer). */
export interface UsageRecord {
  guid: string;
  username: string;
  model: string;
  usage: TokenUsage;
  costNanoUsd: number;
  /** RFC 3339 UTC. */
  createdAt: string;
}

/** A user's quotas; null means "no limit". */
export interface QuotaLimits {
  imagesPerDay: number | null;
  /** USD per calendar month (UTC) in nano-dollars. */
  usdPerMonthNano: number | null;
}

export type QuotaName = 'images_per_day' | 'usd_per_month';

export const USAGE_GROUPS = ['user', 'model', 'day'] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];
const GroupBySchema = Type.Union([Type.Literal('user'), Type.Literal('model'), Type.Literal('day')]);

/** Query of GET /usage. Bounds are RFC 3339 (section 5.6) date-times; `from` inclusive, `to` exclusive. */
export const UsageQuerySchema = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Start, inclusive (RFC 3339). Default: the first instant of the current UTC month' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'End, exclusive (RFC 3339). Default: no end' })),
    group_by: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('model'), Type.Literal('day')], { default: 'user', description: 'Group rows by user, model or UTC day' })),
  },
  { additionalProperties: false },
);
export type UsageQuery = Static<typeof UsageQuerySchema>;

const Tokens = (description: string) => Type.Integer({ minimum: 0, description });
const Usd = Type.String({ pattern: '^-?[0-9]+\\.[0-9]{2,9}$', description: 'US dollars as an exact decimal string', examples: ['0.16646'] });

export const UsageTotalsSchema = Type.Object({
  images: Type.Integer({ minimum: 0, description: 'Images the provider billed' }),
  input_tokens: Tokens('Input tokens (text and image)'),
  input_text_tokens: Tokens('Input text tokens, where the provider split them'),
  input_image_tokens: Tokens('Input image tokens, where the provider split them'),
  output_tokens: Tokens('Output tokens'),
  output_image_tokens: Tokens('Output image tokens, where the provider split them'),
  output_text_tokens: Tokens('Output text tokens, where the provider split them'),
  total_tokens: Tokens('All tokens'),
  cost_usd: Usd,
});
export type UsageTotals = Static<typeof UsageTotalsSchema>;

export const UsageRowSchema = Type.Object({
  group: Type.String({ description: 'The username, the model, or the UTC day (YYYY-MM-DD)' }),
  ...UsageTotalsSchema.properties,
});
export type UsageRow = Static<typeof UsageRowSchema>;

export const UsageReportSchema = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    group_by: GroupBySchema,
    rows: Type.Array(UsageRowSchema),
    total: UsageTotalsSchema,
  },
  { $id: 'UsageReport' },
);
export type UsageReport = Static<typeof UsageReportSchema>;

const QuotaStatusSchema = Type.Object({
  limit: Type.Union([Type.String(), Type.Integer(), Type.Null()], { description: 'The limit, or null for none' }),
  used: Type.Union([Type.String(), Type.Integer()], { description: 'Used in the current period (reserved creates included)' }),
  resets_at: Type.String({ format: 'date-time', description: 'When the period ends (UTC)' }),
});

export const MeSchema = Type.Object(
  {
    username: Type.String(),
    admin: Type.Boolean(),
    quotas: Type.Object({
      images_per_day: QuotaStatusSchema,
      usd_per_month: QuotaStatusSchema,
    }),
  },
  { $id: 'Me' },
);
export type Me = Static<typeof MeSchema>;
