import { Type, type Static } from 'typebox';

/** Every token starts with this, so a leaked one is recognisable (secret scanners, log reviews). */
export const API_KEY_TOKEN_PREFIX = 'pxy_';
export const API_KEY_LABEL_MAX_LENGTH = 200;
/** Key ids are 16 lowercase hex digits: random, never a row number, and never mistaken for a CLI flag. */
export const API_KEY_ID_PATTERN = '^[0-9a-f]{16}$';
/** `30d`, `12h`, `90m`: a positive whole number of minutes, hours or days. */
export const DURATION_PATTERN = '^[1-9][0-9]{0,6}[mhd]$';
/** The longest lifetime a key may be given (10 years): longer is "never expires", which is the default. */
export const API_KEY_MAX_LIFETIME_MS = 3650 * 24 * 60 * 60 * 1000;

const Timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-11-25T09:30:00.123Z'] });
// A type list, not anyOf, for the same reason as ImageDetail: fast-json-stringify checks a type list
// with typeof instead of running Ajv per field.
const NullableTimestamp = (description: string) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time', description });

/** An API key as its owner sees it: everything but the token, which exists only in the create answer. */
export const ApiKeySchema = Type.Object(
  {
    id: Type.String({ pattern: API_KEY_ID_PATTERN, description: 'Key id, used to revoke it', examples: ['3fa8c1d27be04e96'] }),
    label: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'Free text to tell keys apart' }),
    prefix: Type.String({ description: 'The first characters of the token, to recognise it', examples: ['pxy_7Kq2Xa'] }),
    created_at: Timestamp('Creation time, RFC 3339 UTC'),
    expires_at: NullableTimestamp('When the key stops working; null for never'),
    revoked_at: NullableTimestamp('When the key was revoked; null while it is not'),
    last_used_at: NullableTimestamp('Last request authenticated with it, to the minute; null when never used'),
  },
  { $id: 'ApiKey' },
);
export type ApiKey = Static<typeof ApiKeySchema>;

export const ApiKeyListSchema = Type.Array(Type.Ref('ApiKey'), { $id: 'ApiKeyList' });

/** The answer to a create: the key and, this once, its token. */
export const CreatedApiKeySchema = Type.Object(
  {
    ...ApiKeySchema.properties,
    token: Type.String({
      description: 'The bearer token. Shown once: only a hash of it is stored',
      examples: ['pxy_7Kq2XaVb3NcR9tLm0PzQw4Ey8UhJ6sDg1FiO5kTnYrC'],
    }),
  },
  { $id: 'CreatedApiKey' },
);
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;

/** Body of POST /me/keys; also what `pixyproxy key create` passes. */
export const ApiKeyCreateSchema = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: API_KEY_LABEL_MAX_LENGTH, description: 'Free text to tell keys apart' })),
    expires_in: Type.Optional(
      Type.String({
        pattern: DURATION_PATTERN,
        description: 'Lifetime from now: minutes, hours or days (`90m`, `12h`, `30d`, at most 10 years); omitted: never expires',
        examples: ['30d'],
      }),
    ),
  },
  { additionalProperties: false, $id: 'ApiKeyCreate' },
);
export type ApiKeyCreate = Static<typeof ApiKeyCreateSchema>;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Milliseconds in a duration such as `30d`, `12h` or `90m`; undefined when the text is not one
 * (DURATION_PATTERN). Callers still bound the result by API_KEY_MAX_LIFETIME_MS.
 */
export function durationMs(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS];
}
