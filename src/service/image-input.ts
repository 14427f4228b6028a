import {
  ImageDetailCreateSchema,
  ImageDetailUpdateSchema,
  type ImageDetailCreate,
  type ImageDetailUpdate,
} from '../core/models/image.js';
import { RecordNotFoundError } from '../core/errors.js';
import type { ImageRecord } from '../core/models/image.js';
import type { ImageRepository } from '../data/image-repository.js';
import { schemaCheck } from './schema-check.js';

const checkCreate = schemaCheck<ImageDetailCreate>(ImageDetailCreateSchema, '/body');
const checkUpdate = schemaCheck<ImageDetailUpdate>(ImageDetailUpdateSchema, '/body');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Trims, lower-cases, de-duplicates and sorts tags, so equal sets are stored equally. */
export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()))].sort();
}

function trimmedCopy(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const copy: Record<string, unknown> = { ...input };
  if (typeof copy['prompt'] === 'string') copy['prompt'] = copy['prompt'].trim();
  if (Array.isArray(copy['tags'])) copy['tags'] = copy['tags'].map((t: unknown) => (typeof t === 'string' ? t.trim() : t));
  return copy;
}

/** Validates a create request after trimming; returns it with tags normalised. */
export function parseCreateInput(input: unknown): { prompt: string; tags: string[] } {
  const valid = checkCreate(trimmedCopy(input));
  return { prompt: valid.prompt, tags: normaliseTags(valid.tags ?? []) };
}

/** Validates a tag-update request after trimming; returns the normalised tag set. */
export function parseUpdateInput(input: unknown): { tags: string[] } {
  const valid = checkUpdate(trimmedCopy(input));
  return { tags: normaliseTags(valid.tags) };
}

/**
 * The stored form of a guid: lowercase. Anything that is not a UUID cannot name an image (the web
 * layer answers 400 for those before they get here).
 */
export function canonicalGuid(guid: string): string {
  const lowered = guid.toLowerCase();
  if (!UUID.test(lowered)) throw imageNotFound(guid);
  return lowered;
}

export function imageNotFound(guid: string): RecordNotFoundError {
  return new RecordNotFoundError(`No image has the guid "${guid.slice(0, 64)}"`);
}

/** The image a client-given guid names, in any letter case; RecordNotFoundError when there is none. */
export async function findImage(images: Pick<ImageRepository, 'findByGuid'>, guid: string): Promise<ImageRecord> {
  const record = await images.findByGuid(canonicalGuid(guid));
  if (record === undefined) throw imageNotFound(guid);
  return record;
}
