import type { ImageDetailCreate, ImageDetailUpdate } from '../../core/models/image.js';
import type { ImageOptionsInput } from '../generation/index.js';

/** A create as the images room takes it: prompt trimmed, tags normalised, the generation options as sent. */
export interface CreateImageCommand {
  prompt: string;
  tags: string[];
  /** Checked per model by the service (resolveImageOptions), before any provider call. */
  options: ImageOptionsInput;
}

/** A tag replacement as the images room takes it: the normalised tag set. */
export interface UpdateTagsCommand {
  tags: string[];
}

/** Trims, lower-cases, de-duplicates and sorts tags, so equal sets are stored equally. */
export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()))].sort();
}

/**
 * The command for a POST /image body that has already passed `ImageDetailCreateSchema` at the edge.
 * The limits apply to the body as sent (what the OpenAPI document publishes); trimming a valid value
 * cannot make it invalid, so nothing is validated twice. See docs/API.md, "Input normalisation".
 */
export function createImageCommand(body: ImageDetailCreate): CreateImageCommand {
  const { prompt, tags, ...options } = body;
  return { prompt: prompt.trim(), tags: normaliseTags(tags ?? []), options };
}

/** The command for a PATCH /image/{guid} body that has passed `ImageDetailUpdateSchema` at the edge. */
export function updateTagsCommand(body: ImageDetailUpdate): UpdateTagsCommand {
  return { tags: normaliseTags(body.tags) };
}
