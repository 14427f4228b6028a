import type { NewImage, StoredImage } from '../core/models/image.js';
import type { Database, Queryable, SqlParams } from './database.js';
import { IMAGE_COLUMNS, rowParamsOf, storedImageFromRow, type ImageRow } from './image-row.js';
import { toSqlTime } from './sql-time.js';

/** Position in the newest-first listing: the last row of the previous page. */
export interface ListingKey {
  createdAt: string;
  guid: string;
}

export interface ListPageQuery {
  limit: number;
  after?: ListingKey;
  tag?: string;
  author?: string;
}

export interface ListPageResult {
  images: StoredImage[];
  /** Key of the last image returned when more rows follow it. */
  nextKey?: ListingKey;
}

/**
 * The catalogue's rows. Every method speaks `StoredImage` (core/models/image.ts); SQL and row
 * mapping stay behind it. Throws DBConnectionError / ConstraintViolationError from the adapters.
 */
export interface ImageRepository {
  /** Writes the row and its tags in one transaction; returns what was written (`updated_at` = `created_at`). */
  insert(image: NewImage): Promise<StoredImage>;
  findByGuid(guid: string): Promise<StoredImage | undefined>;
  listPage(query: ListPageQuery): Promise<ListPageResult>;
  /** Replaces the tag set; undefined when no image has this guid. */
  updateTags(guid: string, tags: readonly string[], updatedAt: string): Promise<StoredImage | undefined>;
  /** True when a row was deleted. */
  deleteByGuid(guid: string): Promise<boolean>;
  /** Which of these filenames belong to a row; for the orphan-file sweep. */
  existingFilenames(filenames: readonly string[]): Promise<Set<string>>;
}

// Newest first, ties broken by guid. `created_at <= :c AND (created_at < :c OR guid < :g)` rather than
// a row-value comparison, because MySQL/MariaDB turn this form into an index range scan.
const KEYSET = '(i.created_at <= :afterCreatedAt AND (i.created_at < :afterCreatedAt OR i.guid < :afterGuid))';
const ORDER = 'ORDER BY i.created_at DESC, i.guid DESC';
const TAG_KEYSET = KEYSET.replaceAll('i.', 't.');
const TAG_ORDER = ORDER.replaceAll('i.', 't.');
const QUALIFIED_COLUMNS = IMAGE_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ');

/** The SQL of one listing page; exported so the query plans can be checked against the indexes. */
export function listingSql(query: ListPageQuery): string {
  const after = query.after !== undefined;
  const author = query.author !== undefined;
  if (query.tag !== undefined) {
    // Both filters are equalities on image_tag, so (author, tag, created_at, guid) serves them in order.
    const where = [...(author ? ['t.author = :author'] : []), 't.tag = :tag', ...(after ? [TAG_KEYSET] : [])];
    return `SELECT ${QUALIFIED_COLUMNS} FROM image_tag t JOIN image i ON i.id = t.image_id
      WHERE ${where.join(' AND ')} ${TAG_ORDER} LIMIT :limit`;
  }
  const where = [...(author ? ['i.author = :author'] : []), ...(after ? [KEYSET] : [])];
  return `SELECT ${QUALIFIED_COLUMNS} FROM image i ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${ORDER} LIMIT :limit`;
}

/** The parameters of listingSql(query): one row more than the page, to know whether another follows. */
export function listingParams(query: ListPageQuery): SqlParams {
  const params: Record<string, string | number> = { limit: query.limit + 1 };
  if (query.after !== undefined) {
    params['afterCreatedAt'] = toSqlTime(query.after.createdAt);
    params['afterGuid'] = query.after.guid;
  }
  if (query.tag !== undefined) params['tag'] = query.tag;
  if (query.author !== undefined) params['author'] = query.author;
  return params;
}

interface TagOwner {
  imageId: number;
  guid: string;
  author: string;
  createdAt: string;
}

async function insertTags(tx: Queryable, owner: TagOwner, tags: readonly string[]) {
  for (const tag of tags) {
    await tx.run(
      'INSERT INTO image_tag (image_id, tag, author, created_at, guid) VALUES (:imageId, :tag, :author, :createdAt, :guid)',
      { ...owner, tag },
    );
  }
}

/** ImageRepository over the database port: the same SQL on SQLite and MySQL. */
export class SqlImageRepository implements ImageRepository {
  constructor(private readonly db: Database) {}

  async insert(image: NewImage): Promise<StoredImage> {
    const params = rowParamsOf(image);
    await this.db.transaction(async (tx) => {
      const { lastInsertId } = await tx.run(
        `INSERT INTO image (guid, prompt, filename, tags, author, content_type, byte_size, sha256, model, size,
           revised_prompt, quality, background, output_format, created_at, updated_at)
         VALUES (:guid, :prompt, :filename, :tags, :author, :content_type, :byte_size, :sha256, :model, :size,
           :revised_prompt, :quality, :background, :output_format, :created_at, :created_at)`,
        params,
      );
      const owner = { imageId: lastInsertId, guid: image.guid, author: image.author, createdAt: params['created_at'] as string };
      await insertTags(tx, owner, image.tags);
    });
    // What was written is what is stored: no read back. Times are RFC 3339 with milliseconds, the
    // precision both engines keep (DATETIME(3), sortable text).
    return { ...image, tags: [...image.tags], updated_at: image.created_at };
  }

  async findByGuid(guid: string): Promise<StoredImage | undefined> {
    const row = await this.db.get<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM image WHERE guid = :guid`, { guid });
    return row === undefined ? undefined : storedImageFromRow(row);
  }

  async listPage(query: ListPageQuery): Promise<ListPageResult> {
    const rows = await this.db.all<ImageRow>(listingSql(query), listingParams(query));
    const images = rows.slice(0, query.limit).map(storedImageFromRow);
    const last = images.at(-1);
    if (rows.length <= query.limit || last === undefined) return { images };
    return { images, nextKey: { createdAt: last.created_at, guid: last.guid } };
  }

  async updateTags(guid: string, tags: readonly string[], updatedAt: string): Promise<StoredImage | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM image WHERE guid = :guid`, { guid });
      if (row === undefined) return undefined;
      const current = storedImageFromRow(row);
      await tx.run('UPDATE image SET tags = :tags, updated_at = :updatedAt WHERE id = :id', {
        tags: JSON.stringify(tags),
        updatedAt: toSqlTime(updatedAt),
        id: row.id,
      });
      await tx.run('DELETE FROM image_tag WHERE image_id = :id', { id: row.id });
      await insertTags(tx, { imageId: row.id, guid, author: current.author, createdAt: toSqlTime(current.created_at) }, tags);
      return { ...current, tags: [...tags], updated_at: updatedAt };
    });
  }

  async deleteByGuid(guid: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const current = await tx.get<{ id: number }>('SELECT id FROM image WHERE guid = :guid', { guid });
      if (current === undefined) return false;
      await tx.run('DELETE FROM image_tag WHERE image_id = :id', { id: current.id });
      const { changes } = await tx.run('DELETE FROM image WHERE id = :id', { id: current.id });
      return changes > 0;
    });
  }

  async existingFilenames(filenames: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const filename of filenames) {
      const row = await this.db.get<{ filename: string }>('SELECT filename FROM image WHERE filename = :filename', { filename });
      if (row !== undefined) found.add(row.filename);
    }
    return found;
  }
}
