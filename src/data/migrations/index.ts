import { initialSchema } from './001-initial-schema.js';
import { exactTextComparison } from './002-exact-text-comparison.js';
import { imageObjectLocation } from './003-image-object-location.js';
import { usageAndQuotas } from './004-usage-and-quotas.js';
import { promptSearch } from './005-prompt-search.js';
import { apiKeys } from './006-api-keys.js';
import { idempotencyKeys } from './007-idempotency-keys.js';
import type { Migration } from './migration.js';

/** Every migration, oldest first. Append only: a released migration never changes. */
export const MIGRATIONS: readonly Migration[] = [
  initialSchema,
  exactTextComparison,
  imageObjectLocation,
  usageAndQuotas,
  promptSearch,
  apiKeys,
  idempotencyKeys,
];
