import type { ImageStoreKind, NewImage, StoredImage } from '../core/models/image.js';
import type { SqlParams } from './database.js';
import { fromSqlTime, toSqlTime } from './sql-time.js';

/** An `image` row as both drivers return it. */
export interface ImageRow {
  id: number;
  guid: string;
  prompt: string;
  filename: string;
  tags: string;
  author: string;
  content_type: string;
  byte_size: number | string;
  sha256: string;
  object_store: string;
  object_key: string;
  model: string | null;
  size: string | null;
  revised_prompt: string | null;
  quality: string | null;
  background: string | null;
  output_format: string | null;
  created_at: string | Date;
  updated_at: string | Date;
}

export const IMAGE_COLUMNS =
  'id, guid, prompt, filename, object_store, object_key, tags, author, content_type, byte_size, sha256, model, size, revised_prompt, quality, background, output_format, created_at, updated_at';

/** The one row -> model mapping: tags from their JSON text, times from the SQL literal to RFC 3339. */
export function storedImageFromRow(row: ImageRow): StoredImage {
  return {
    guid: row.guid,
    prompt: row.prompt,
    filename: row.filename,
    tags: JSON.parse(row.tags) as string[],
    author: row.author,
    content_type: row.content_type,
    byte_size: Number(row.byte_size),
    sha256: row.sha256,
    // Not narrowed here: a kind this release does not know fails loudly where the bytes are looked up.
    object_store: row.object_store as ImageStoreKind,
    object_key: row.object_key,
    model: row.model,
    size: row.size,
    revised_prompt: row.revised_prompt,
    quality: row.quality,
    background: row.background,
    output_format: row.output_format,
    created_at: fromSqlTime(row.created_at),
    updated_at: fromSqlTime(row.updated_at),
  };
}

/** The one model -> row mapping, as named parameters for the INSERT (column names are the keys). */
export function rowParamsOf(image: NewImage): SqlParams {
  return { ...image, tags: JSON.stringify(image.tags), created_at: toSqlTime(image.created_at) };
}
