import type { ContentInfo, ImageStoreKind, NewImage, ObjectLocation, StoredImage } from '../core/models/image.js';
import type { Database, Dialect, Queryable, SqlParams, SqlValue } from './database.js';
import {
  CONTENT_INFO_COLUMNS,
  contentInfoFromRow,
  IMAGE_COLUMNS,
  imageIdOf,
  rowParamsOf,
  storedImageFromRow,
  type ContentInfoRow,
  type ImageRow,
} from './image-row.js';
import { toSqlTime } from './sql-time.js';

/** Position in the newest-first listing: the last row of the previous page. */
export interface ListingKey {
  createdAt: string;
  guid: string;
}

/** A prompt search: lower-case words, each required, and phrases whose words must appear in order. */
export interface PromptSearch {
  words: string[];
  phrases: string[][];
}

export interface ListPageQuery {
  limit: number;
  after?: ListingKey;
  tag?: string;
  author?: string;
  /** Full-text search over prompt and revised prompt (migration 005). */
  search?: PromptSearch;
}

/**
 * How a search page is read. `search-first`: every match from the full-text index, then sorted;
 * cheap while matches are few. `listing-first`: the listing index in order, keeping rows that
 * match; cheap when matches are common, since a page is found after a few rows.
 */
export type SearchPlan = 'search-first' | 'listing-first';

/**
 * Up to this many full-text matches a search is read search-first. Chosen on 1M rows (SQLite):
 * sorting 5,000 matches costs a few ms, and past it matches are dense enough (at least 1 row in 200)
 * for the listing index to fill a page quickly.
 */
export const SEARCH_FIRST_MAX_MATCHES = 5000;

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
  /**
   * Only what a content request needs of the image (8 of its 19 columns): the same answer as
   * findByGuid for those fields, read on every GET/HEAD of the bytes and every 304.
   */
  findContentInfo(guid: string): Promise<ContentInfo | undefined>;
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

// InnoDB's full-text index leaves out words shorter than innodb_ft_min_token_size (3 by default) or
// longer than 84 characters, and the words of its default stopword list; a `+word` for one of them
// would match nothing. Those words are checked with a word-boundary REGEXP on the matched rows instead.
const INNODB_MIN_TOKEN = 3;
const INNODB_MAX_TOKEN = 84;
const INNODB_STOPWORDS = new Set(
  ('a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where who will with und www').split(' '),
);

function indexedByInnodb(word: string): boolean {
  return word.length >= INNODB_MIN_TOKEN && word.length <= INNODB_MAX_TOKEN && !INNODB_STOPWORDS.has(word);
}

const FTS5_MATCHES = 'SELECT rowid FROM image_fts WHERE image_fts MATCH :match';

/** FTS5 query syntax: every word and phrase a quoted string, ANDed (words hold no quotes). */
function fts5Match(search: PromptSearch): string {
  return [...search.words.map((w) => `"${w}"`), ...search.phrases.map((p) => `"${p.join(' ')}"`)].join(' AND ');
}

/** The SQL conditions (on alias i) and parameters of a prompt search, per engine. */
function searchConditions(search: PromptSearch, dialect: Dialect): { where: string[]; params: Record<string, string> } {
  if (dialect === 'sqlite') {
    return { where: [`i.id IN (${FTS5_MATCHES})`], params: { match: fts5Match(search) } };
  }
  const required = new Set([...search.words, ...search.phrases.flat()].filter(indexedByInnodb));
  const checked = [...search.words.filter((w) => !indexedByInnodb(w)).map((w) => [w]), ...search.phrases];
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (required.size > 0) {
    where.push('MATCH (i.search_text) AGAINST (:match IN BOOLEAN MODE)');
    params['match'] = [...required].map((w) => `+${w}`).join(' ');
  }
  checked.forEach((words, n) => {
    // The column's collation is case-insensitive, and so is REGEXP on it; words hold letters only.
    where.push(`i.search_text REGEXP :pattern${n}`);
    params[`pattern${n}`] = `\\b${words.join('\\W+')}\\b`;
  });
  return { where, params };
}

/**
 * How many of the newest listing rows (from the cursor on) a search with many matches checks first.
 * Both engines' full-text indexes hand back every match of a word before the listing order can be
 * applied (InnoDB: about 1.5 s for a word in 20% of a million rows; SQLite's IN list: ~0.2 s); a
 * common word fills a page from the newest few hundred rows, so those are checked first, and the
 * index is asked in full only when they do not fill the page (a rarer word, whose search is quick).
 * 2,000 rows fill a page of 50 for any word in at least 1 row of 40.
 */
export const SEARCH_WINDOW_ROWS = 2000;

/**
 * SQLite, for a word with many matches: the newest SEARCH_WINDOW_ROWS listing rows (after the
 * cursor, with the filters), kept when the full-text index has them. The index is asked only for
 * matches whose rowid lies between the window's smallest and largest id (FTS5 seeks to that range),
 * since ids follow creation closely; exact whenever more than `limit` rows come back, as above.
 */
export function sqliteWindowSql(query: ListPageQuery): string {
  const after = query.after !== undefined;
  const author = query.author !== undefined;
  let window: string;
  if (query.tag !== undefined) {
    const where = [...(author ? ['t.author = :author'] : []), 't.tag = :tag', ...(after ? [TAG_KEYSET] : [])];
    const index = author ? 'image_tag_author_listing_idx' : 'image_tag_listing_idx';
    window = `SELECT t.image_id AS id FROM image_tag t INDEXED BY ${index} WHERE ${where.join(' AND ')} ${TAG_ORDER} LIMIT ${SEARCH_WINDOW_ROWS}`;
  } else {
    const where = [...(author ? ['i.author = :author'] : []), ...(after ? [KEYSET] : [])];
    const index = author ? 'image_author_listing_idx' : 'image_listing_idx';
    window = `SELECT i.id FROM image i INDEXED BY ${index} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${ORDER} LIMIT ${SEARCH_WINDOW_ROWS}`;
  }
  return `WITH w AS MATERIALIZED (${window})
    SELECT ${QUALIFIED_COLUMNS} FROM w JOIN image i ON i.id = w.id
    WHERE i.id IN (${FTS5_MATCHES} AND rowid BETWEEN (SELECT MIN(id) FROM w) AND (SELECT MAX(id) FROM w))
    ${ORDER} LIMIT :limit`;
}

/**
 * MySQL/MariaDB: the newest SEARCH_WINDOW_ROWS rows in listing order (after the cursor, with the
 * tag and author filters), kept when every word and phrase occurs as a whole word (REGEXP on the
 * case-insensitive search column; accents are not folded on this path). Exact whenever it returns
 * more than `limit` rows: the first matches in listing order all lie in that window.
 */
export function mysqlWindowSql(query: ListPageQuery, windowRows = SEARCH_WINDOW_ROWS): string {
  const after = query.after !== undefined;
  const author = query.author !== undefined;
  let window: string;
  if (query.tag !== undefined) {
    const where = [...(author ? ['t.author = :author'] : []), 't.tag = :tag', ...(after ? [TAG_KEYSET] : [])];
    window = `SELECT t.image_id AS id FROM image_tag t WHERE ${where.join(' AND ')} ${TAG_ORDER} LIMIT ${windowRows}`;
  } else {
    const where = [...(author ? ['i.author = :author'] : []), ...(after ? [KEYSET] : [])];
    window = `SELECT i.id FROM image i ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${ORDER} LIMIT ${windowRows}`;
  }
  const terms = searchTerms(query);
  const where = terms.map((_, n) => `i.search_text REGEXP :window${n}`);
  return `SELECT ${QUALIFIED_COLUMNS} FROM (${window}) w JOIN image i ON i.id = w.id
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${ORDER} LIMIT :limit`;
}

/** Each word as a one-word phrase, then the phrases. */
function searchTerms(query: ListPageQuery): string[][] {
  return query.search === undefined ? [] : [...query.search.words.map((w) => [w]), ...query.search.phrases];
}

function mysqlWindowParams(query: ListPageQuery): SqlParams {
  const params: Record<string, SqlValue> = { ...listingParams(query, 'sqlite') };
  delete params['match'];
  searchTerms(query).forEach((phrase, n) => {
    params[`window${n}`] = `\\b${phrase.join('\\W+')}\\b`;
  });
  return params;
}

/**
 * The SQL of one listing page; exported so the query plans can be checked against the indexes.
 * `plan` matters for a search on SQLite only, whose planner, left alone, reads every match and
 * sorts them (seconds for a word in 20% of a million rows); `listing-first` names the listing index.
 */
export function listingSql(query: ListPageQuery, dialect: Dialect = 'sqlite', plan: SearchPlan = 'search-first'): string {
  const after = query.after !== undefined;
  const author = query.author !== undefined;
  const search = query.search === undefined ? [] : searchConditions(query.search, dialect).where;
  const pinned = dialect === 'sqlite' && query.search !== undefined && plan === 'listing-first';
  if (query.tag !== undefined) {
    // Both filters are equalities on image_tag, so (author, tag, created_at, guid) serves them in order.
    const where = [...(author ? ['t.author = :author'] : []), 't.tag = :tag', ...search, ...(after ? [TAG_KEYSET] : [])];
    const index = pinned ? ` INDEXED BY ${author ? 'image_tag_author_listing_idx' : 'image_tag_listing_idx'}` : '';
    return `SELECT ${QUALIFIED_COLUMNS} FROM image_tag t${index} JOIN image i ON i.id = t.image_id
      WHERE ${where.join(' AND ')} ${TAG_ORDER} LIMIT :limit`;
  }
  const where = [...(author ? ['i.author = :author'] : []), ...search, ...(after ? [KEYSET] : [])];
  const index = pinned ? ` INDEXED BY ${author ? 'image_author_listing_idx' : 'image_listing_idx'}` : '';
  return `SELECT ${QUALIFIED_COLUMNS} FROM image i${index} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${ORDER} LIMIT :limit`;
}

/** The parameters of listingSql(query): one row more than the page, to know whether another follows. */
export function listingParams(query: ListPageQuery, dialect: Dialect = 'sqlite'): SqlParams {
  const params: Record<string, string | number> = { limit: query.limit + 1 };
  if (query.after !== undefined) {
    params['afterCreatedAt'] = toSqlTime(query.after.createdAt);
    params['afterGuid'] = query.after.guid;
  }
  if (query.tag !== undefined) params['tag'] = query.tag;
  if (query.author !== undefined) params['author'] = query.author;
  if (query.search !== undefined) Object.assign(params, searchConditions(query.search, dialect).params);
  return params;
}

/** What the MySQL full-text index reads: prompt and revised prompt (migration 005). */
export function searchTextOf(prompt: string, revisedPrompt: string | null): string {
  return revisedPrompt === null ? prompt : `${prompt}\n${revisedPrompt}`;
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
  /**
   * @param searchFirstMaxMatches the plan threshold (see SEARCH_FIRST_MAX_MATCHES); tests lower it
   *   to see both plans on a small table.
   */
  constructor(
    private readonly db: Database,
    private readonly searchFirstMaxMatches = SEARCH_FIRST_MAX_MATCHES,
  ) {}

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
      // SQLite's full-text table follows the row through triggers; MySQL's index reads this column.
      if (this.db.dialect === 'mysql') {
        await tx.run('UPDATE image SET search_text = :searchText WHERE id = :id', {
          id: lastInsertId,
          searchText: searchTextOf(image.prompt, image.revised_prompt),
        });
      }
      const owner = { imageId: lastInsertId, guid: image.guid, author: image.author, createdAt: params['created_at'] as string };
      await insertTags(tx, owner, image.tags);
    });
    // What was written is what is stored: no read back. Times are RFC 3339 with milliseconds, the
    // precision both engines keep (DATETIME(3), sortable text).
    return { ...image, tags: [...image.tags], updated_at: image.created_at };
  }

  async findByGuid(guid: string): Promise<StoredImage | undefined> {
    const [row] = await this.db.values<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM image WHERE guid = :guid`, { guid });
    return row === undefined ? undefined : storedImageFromRow(row);
  }

  async findContentInfo(guid: string): Promise<ContentInfo | undefined> {
    const [row] = await this.db.values<ContentInfoRow>(`SELECT ${CONTENT_INFO_COLUMNS} FROM image WHERE guid = :guid`, { guid });
    return row === undefined ? undefined : contentInfoFromRow(row);
  }

  async listPage(query: ListPageQuery): Promise<ListPageResult> {
    let rows: ImageRow[] | undefined;
    const params = listingParams(query, this.db.dialect);
    let plan: SearchPlan = 'search-first';
    if (query.search !== undefined && this.db.dialect === 'mysql') {
      // InnoDB's full-text search is slow for every query that holds a common word, also when the
      // words together are rarer (two common words): when the first window found some matches but
      // not a page, a window ten times larger is tried before the index. A window with no match at
      // all points to a rare word, which the index answers quickly.
      for (const windowRows of [SEARCH_WINDOW_ROWS, SEARCH_WINDOW_ROWS * 10]) {
        const recent = await this.db.values<ImageRow>(mysqlWindowSql(query, windowRows), mysqlWindowParams(query));
        if (recent.length > query.limit) rows = recent;
        if (rows !== undefined || recent.length === 0) break;
      }
    } else if (query.search !== undefined) {
      plan = await this.#searchPlan(params);
      if (plan === 'listing-first') {
        // Many matches: the newest rows usually hold a page of them; check those first.
        const recent = await this.db.values<ImageRow>(sqliteWindowSql(query), params);
        if (recent.length > query.limit) rows = recent;
      }
    }
    rows ??= await this.db.values<ImageRow>(listingSql(query, this.db.dialect, plan), params);
    const images = rows.slice(0, query.limit).map(storedImageFromRow);
    const last = images.at(-1);
    if (rows.length <= query.limit || last === undefined) return { images };
    return { images, nextKey: { createdAt: last.created_at, guid: last.guid } };
  }

  /** SQLite: counts the full-text matches, up to the threshold, to pick the plan (see SearchPlan). */
  async #searchPlan(params: SqlParams): Promise<SearchPlan> {
    if (this.db.dialect !== 'sqlite') return 'search-first';
    const counted = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM (${FTS5_MATCHES} LIMIT :cap)`, {
      match: params['match'] ?? null,
      cap: this.searchFirstMaxMatches + 1,
    });
    return Number(counted?.n ?? 0) > this.searchFirstMaxMatches ? 'listing-first' : 'search-first';
  }

  async updateTags(guid: string, tags: readonly string[], updatedAt: string): Promise<StoredImage | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.values<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM image WHERE guid = :guid`, { guid });
      if (row === undefined) return undefined;
      const id = imageIdOf(row);
      const current = storedImageFromRow(row);
      await tx.run('UPDATE image SET tags = :tags, updated_at = :updatedAt WHERE id = :id', {
        tags: JSON.stringify(tags),
        updatedAt: toSqlTime(updatedAt),
        id,
      });
      await tx.run('DELETE FROM image_tag WHERE image_id = :id', { id });
      await insertTags(tx, { imageId: id, guid, author: current.author, createdAt: toSqlTime(current.created_at) }, tags);
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
