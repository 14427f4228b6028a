import type { Readable } from 'node:stream';
import { InternalServerError } from '../../core/errors.js';
import {
  imageDetailOf,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  type ContentInfo,
  type ImageDetail,
  type ImageListQuery,
  type ImagePage,
} from '../../core/models/image.js';
import type { ImageRepository } from '../../data/image-repository.js';
import type { ByteRange, ContentCache, ImageStorage } from '../storage/index.js';
import { normaliseTags } from './image-commands.js';
import { findContentInfo, findImage } from './image-lookup.js';
import { decodeCursor, encodeCursor } from './listing-cursor.js';
import { parsePromptSearch } from './prompt-search.js';

/** Read-only access to the catalogue and the bytes; everything here is public. */
export class PublicImageService {
  /**
   * @param contentCache recently served bytes by sha-256 (CONTENT_CACHE_BYTES); without it every
   *   content request reads the store.
   */
  constructor(
    private readonly images: ImageRepository,
    private readonly storage: ImageStorage,
    private readonly contentCache?: ContentCache,
  ) {}

  /** GET /image/{guid}. @throws RecordNotFoundError (404) for a guid that names no image. */
  async getDetail(guid: string): Promise<ImageDetail> {
    return imageDetailOf(await findImage(this.images, guid));
  }

  /** GET /image: one page, newest first (docs/API.md). @throws BadRequestError for a cursor this server did not issue. */
  async list(query: ImageListQuery = {}): Promise<ImagePage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? LIST_LIMIT_DEFAULT), 1), LIST_LIMIT_MAX);
    const page = await this.images.listPage({
      limit,
      ...(query.after !== undefined && { after: decodeCursor(query.after) }),
      ...(query.tag !== undefined && { tag: normaliseTags([query.tag])[0]! }),
      ...(query.author !== undefined && { author: query.author }),
      ...(query.q !== undefined && { search: parsePromptSearch(query.q) }),
    });
    return { images: page.images.map(imageDetailOf), ...(page.nextKey && { nextCursor: encodeCursor(page.nextKey) }) };
  }

  /** What GET/HEAD /image/{guid}/content answer from before any byte is read. @throws RecordNotFoundError */
  async getContentInfo(guid: string): Promise<ContentInfo> {
    return findContentInfo(this.images, guid);
  }

  /**
   * The bytes (or one range of them): from the content cache when they fit in it, else streamed from
   * the store the row names, as they arrive. Call only after getContentInfo found the row: the row,
   * looked up on every request, is what says the image still exists, so a cached image that was
   * deleted (here or on another instance) is never served.
   * @throws InternalServerError when a row's bytes are missing; ObjectStoreUnavailableError (503) when
   * the store is down or slower than STORE_TIMEOUT_MS
   */
  async openContent(info: ContentInfo, range?: ByteRange): Promise<Readable | Buffer> {
    const cache = this.contentCache;
    if (cache !== undefined && cache.admits(info.byte_size)) {
      const bytes = await cache.get(info.sha256, info.byte_size, () => this.#readWhole(info));
      if (bytes === undefined) throw this.#missing(info);
      // A length that disagrees with the row is not cached, and is streamed as before below.
      if (bytes.length === info.byte_size) return range === undefined ? bytes : bytes.subarray(range.start, range.end + 1);
    }
    const stream = await this.storage.open(info, range);
    if (stream === undefined) throw this.#missing(info);
    return stream;
  }

  async #readWhole(info: ContentInfo): Promise<Buffer | undefined> {
    const stream = await this.storage.open(info);
    if (stream === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  #missing(info: ContentInfo): InternalServerError {
    // The client gets the generic 5xx detail; which object is missing is for the operator's log.
    return new InternalServerError('An unexpected error occurred', {
      cause: new Error(`the bytes of image ${info.guid} (${info.object_store}:${info.object_key}) are missing from the store`),
    });
  }

  /**
   * A presigned GET URL for the image's bytes, minted for this request and never stored; undefined
   * when the row's store cannot mint one (the file store), and the caller streams instead.
   * @param options.expiresInSeconds PRESIGN_EXPIRES_SECONDS
   */
  async presignContent(info: ContentInfo, options: { expiresInSeconds: number; cacheControl: string }): Promise<string | undefined> {
    return this.storage.presignGet(info, { ...options, contentType: info.content_type });
  }
}
