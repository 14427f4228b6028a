import type { ContentInfo, ImageStoreKind, NewImage, StoredImage } from '../core/models/image.js';
import type { SqlParams } from './database.js';
import { fromSqlTime, toSqlTime } from './sql-time.js';

/**
 * An `image` row as both drivers return it in array mode (`Database.values`), in the order of
 * IMAGE_COLUMNS: a listing page reads up to 201 of them, and an array per row is much cheaper to
 * build than an object with a key per column.
 */
export type ImageRow = readonly [
  id: number,
  guid: string,
  prompt: string,
  filename: string,
  object_store: string,
  object_key: string,
  tags: string,
  author: string,
  content_type: string,
  byte_size: number | string,
  sha256: string,
  model: string | null,
  size: string | null,
  revised_prompt: string | null,
  quality: string | null,
  background: string | null,
  output_format: string | null,
  created_at: string | Date,
  updated_at: string | Date,
];

/** The SELECT list that reads an ImageRow; the order is ImageRow's. */
export const IMAGE_COLUMNS =
  'id, guid, prompt, filename, object_store, object_key, tags, author, content_type, byte_size, sha256, model, size, revised_prompt, quality, background, output_format, created_at, updated_at';

/** The row's primary key (`image.id`), which the tag table refers to. */
export function imageIdOf(row: ImageRow): number {
  return row[0];
}

/** The one row -> model mapping: tags from their JSON text, times from the SQL literal to RFC 3339. */
export function storedImageFromRow(row: ImageRow): StoredImage {
  return {
    guid: row[1],
    prompt: row[2],
    filename: row[3],
    tags: JSON.parse(row[6]) as string[],
    author: row[7],
    content_type: row[8],
    byte_size: Number(row[9]),
    sha256: row[10],
    // Not narrowed here: a kind this release does not know fails loudly where the bytes are looked up.
    object_store: row[4] as ImageStoreKind,
    object_key: row[5],
    model: row[11],
    size: row[12],
    revised_prompt: row[13],
    quality: row[14],
    background: row[15],
    output_format: row[16],
    created_at: fromSqlTime(row[17]),
    updated_at: fromSqlTime(row[18]),
  };
}

/** What a content request reads of a row (`ContentInfoRow`), in this order. */
export const CONTENT_INFO_COLUMNS = 'guid, filename, content_type, byte_size, sha256, created_at, object_store, object_key';

/** The columns of CONTENT_INFO_COLUMNS, as both drivers return them in array mode. */
export type ContentInfoRow = readonly [
  guid: string,
  filename: string,
  content_type: string,
  byte_size: number | string,
  sha256: string,
  created_at: string | Date,
  object_store: string,
  object_key: string,
];

/** The row -> content info mapping, with the same conversions as storedImageFromRow. */
export function contentInfoFromRow(row: ContentInfoRow): ContentInfo {
  return {
    guid: row[0],
    filename: row[1],
    content_type: row[2],
    byte_size: Number(row[3]),
    sha256: row[4],
    created_at: fromSqlTime(row[5]),
    object_store: row[6] as ImageStoreKind,
    object_key: row[7],
  };
}

/** The one model -> row mapping, as named parameters for the INSERT (column names are the keys). */
export function rowParamsOf(image: NewImage): SqlParams {
  return { ...image, tags: JSON.stringify(image.tags), created_at: toSqlTime(image.created_at) };
}
