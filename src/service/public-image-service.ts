import type { Readable } from 'node:stream';
import { InternalServerError } from '../core/errors.js';
import { LIST_LIMIT_DEFAULT, type ImageDetail, type ImageListQuery, type ImagePage } from '../core/models/image.js';
import type { ImageRepository } from '../data/image-repository.js';
import type { ByteRange, ImageStore } from './image-store.js';
import { findImage, normaliseTags } from './image-input.js';
import { decodeCursor, encodeCursor } from './listing-cursor.js';
import { parsePromptSearch } from './prompt-search.js';

/** What a client needs to answer a content request before any byte is read. */
export interface ContentInfo {
  guid: string;
  filename: string;
  contentType: string;
  byteSize: number;
  sha256: string;
  createdAt: string;
}

/** Read-only access to the catalogue and the bytes; everything here is public. */
export class PublicImageService {
  constructor(
    private readonly images: ImageRepository,
    private readonly store: ImageStore,
  ) {}

  async getDetail(guid: string): Promise<ImageDetail> {
    return (await findImage(this.images, guid)).detail;
  }

  async list(query: ImageListQuery = {}): Promise<ImagePage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? LIST_LIMIT_DEFAULT), 1), 200);
    const page = await this.images.listPage({
      limit,
      ...(query.after !== undefined && { after: decodeCursor(query.after) }),
      ...(query.tag !== undefined && { tag: normaliseTags([query.tag])[0]! }),
      ...(query.author !== undefined && { author: query.author }),
      ...(query.q !== undefined && { search: parsePromptSearch(query.q) }),
    });
    return { images: page.images, ...(page.nextKey && { nextCursor: encodeCursor(page.nextKey) }) };
  }

  async getContentInfo(guid: string): Promise<ContentInfo> {
    const { detail, sha256 } = await findImage(this.images, guid);
    return {
      guid: detail.guid,
      filename: detail.filename,
      contentType: detail.content_type,
      byteSize: detail.byte_size,
      sha256,
      createdAt: detail.created_at,
    };
  }

  /** Streams the bytes (or one range of them). A row whose file is missing is a server fault. */
  async openContent(info: ContentInfo, range?: ByteRange): Promise<Readable> {
    const stream = await this.store.open(info.filename, range);
    if (stream === undefined) {
      // The client gets the generic 5xx detail; which file is missing is for the operator's log.
      throw new InternalServerError('An unexpected error occurred', {
        cause: new Error(`the bytes of image ${info.guid} (${info.filename}) are missing from the store`),
      });
    }
    return stream;
  }
}
