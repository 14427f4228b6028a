import type { ImageStoreKind, NewImage, ObjectLocation, StoredImage } from '../core/models/image.js';
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

/** One image as `pixyproxy storage migrate` sees it: where its bytes are and what they must hash to. */
export interface ImageLocationRow {
  guid: string;
  filename: string;
  sha256: string;
  location: ObjectLocation;
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
  /** Which of these keys of one store a row names; for the orphan sweep. */
  existingObjectKeys(store: ImageStoreKind, keys: readonly string[]): Promise<Set<string>>;
  /** Where one image's bytes are; undefined when there is no such image. */
  locationOf(guid: string): Promise<ObjectLocation | undefined>;
  /** Up to `limit` images whose bytes are not in `store`, by guid ascending, after `afterGuid`. */
  listNotInStore(store: ImageStoreKind, afterGuid: string | undefined, limit: number): Promise<ImageLocationRow[]>;
  /** Points the row at `to` only if it still names `from` (a compare-and-set); true when it did. */
  moveLocation(guid: string, from: ObjectLocation, to: ObjectLocation): Promise<boolean>;
  /** How many images keep their bytes in each store. */
  countByStore(): Promise<Partial<Record<ImageStoreKind, number>>>;
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
        `INSERT INTO image (guid, prompt, filename, object_store, object_key, tags, author, content_type, byte_size,
           sha256, model, size, revised_prompt, quality, background, output_format, created_at, updated_at)
         VALUES (:guid, :prompt, :filename, :object_store, :object_key, :tags, :author, :content_type, :byte_size,
           :sha256, :model, :size, :revised_prompt, :quality, :background, :output_format, :created_at, :created_at)`,
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

  async existingObjectKeys(store: ImageStoreKind, keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // One indexed point lookup per key (image_object_uq): the sweep runs rarely, and this stays the
    // same SQL on both engines whatever the batch size.
    for (const key of keys) {
      const row = await this.db.get<{ object_key: string }>(
        'SELECT object_key FROM image WHERE object_store = :store AND object_key = :key',
        { store, key },
      );
      if (row !== undefined) found.add(row.object_key);
    }
    return found;
  }

  async locationOf(guid: string): Promise<ObjectLocation | undefined> {
    const row = await this.db.get<ObjectLocation>('SELECT object_store, object_key FROM image WHERE guid = :guid', { guid });
    return row === undefined ? undefined : { object_store: row.object_store, object_key: row.object_key };
  }

  async listNotInStore(store: ImageStoreKind, afterGuid: string | undefined, limit: number): Promise<ImageLocationRow[]> {
    const rows = await this.db.all<{ guid: string; filename: string; sha256: string } & ObjectLocation>(
      `SELECT guid, filename, sha256, object_store, object_key FROM image
       WHERE object_store <> :store ${afterGuid === undefined ? '' : 'AND guid > :afterGuid'}
       ORDER BY guid LIMIT :limit`,
      { store, limit, ...(afterGuid !== undefined && { afterGuid }) },
    );
    return rows.map((row) => ({
      guid: row.guid,
      filename: row.filename,
      sha256: row.sha256,
      location: { object_store: row.object_store, object_key: row.object_key },
    }));
  }

  async moveLocation(guid: string, from: ObjectLocation, to: ObjectLocation): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE image SET object_store = :toStore, object_key = :toKey
       WHERE guid = :guid AND object_store = :fromStore AND object_key = :fromKey`,
      { guid, fromStore: from.object_store, fromKey: from.object_key, toStore: to.object_store, toKey: to.object_key },
    );
    return changes > 0;
  }

  async countByStore(): Promise<Partial<Record<ImageStoreKind, number>>> {
    const rows = await this.db.all<{ object_store: ImageStoreKind; count: number | string }>(
      'SELECT object_store, COUNT(*) AS count FROM image GROUP BY object_store',
    );
    return Object.fromEntries(rows.map((row) => [row.object_store, Number(row.count)]));
  }
}
