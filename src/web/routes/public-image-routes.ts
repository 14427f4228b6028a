import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Readable } from 'node:stream';
import { DataValidationError, RangeNotSatisfiableError } from '../../core/errors.js';
import { ImageListQuerySchema, type ContentInfo, type ImageListQuery } from '../../core/models/image.js';
import type { PublicImageService } from '../../service/images/index.js';
import {
  THUMBNAIL_WIDTHS,
  isThumbnailWidth,
  variantMediaTypeFor,
  type ByteRange,
  type ImageVariants,
  type ThumbnailWidth,
} from '../../service/storage/index.js';
import { preferredImageFormat } from '../content-negotiation.js';
import { entityTag, ifRangeAllows, noneMatchHits, notModifiedSince, parseRange } from '../http-caching.js';
import { GuidParams, problem, problemResponses } from './route-schemas.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const BINARY = { schema: { type: 'string', format: 'binary' } };
const IMAGE_CONTENT = { 'image/png': BINARY, 'image/jpeg': BINARY, 'image/webp': BINARY, 'image/avif': BINARY };

/** The `Link: rel="next"` target: the same query with the new cursor. */
function nextLink(prefix: string, query: ImageListQuery, cursor: string): string {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.tag !== undefined) params.set('tag', query.tag);
  if (query.author !== undefined) params.set('author', query.author);
  if (query.q !== undefined) params.set('q', query.q);
  params.set('after', cursor);
  return `<${prefix}?${params.toString()}>; rel="next"`;
}

/** Conditional and range headers are single-valued; a repeated one is read as its first value. */
function singleValued(headers: FastifyRequest['headers']) {
  const first = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    'if-none-match': first('if-none-match'),
    'if-modified-since': first('if-modified-since'),
    'if-range': first('if-range'),
    range: first('range'),
  };
}

/** How GET /image/{guid}/content hands out bytes: CONTENT_DELIVERY and PRESIGN_EXPIRES_SECONDS. */
export interface ContentDeliveryOptions {
  mode: 'stream' | 'redirect';
  presignExpiresSeconds: number;
}

const STREAM: ContentDeliveryOptions = { mode: 'stream', presignExpiresSeconds: 300 };

/**
 * One representation of an image's content: the original or a variant. Its entity tag and
 * modification time are known up front, so a conditional request is answered 304 before the bytes
 * are touched (or, for a variant, made).
 */
interface Representation {
  /** Hex digest behind the strong ETag. */
  digest: string;
  lastModified: Date;
  contentType: string;
  /** Size and a way to open the bytes (a Buffer when the content cache holds them); for a variant this finds or makes it. */
  prepare(): Promise<{ byteSize: number; open(range?: ByteRange): Promise<Readable | Buffer> }>;
  /**
   * A presigned URL of the bytes for `CONTENT_DELIVERY=redirect`, or undefined when the store cannot
   * mint one (the file store). Only the original has one: a variant may not exist yet, so it is streamed.
   */
  presign?(options: { expiresInSeconds: number; cacheControl: string }): Promise<string | undefined>;
}

async function sendContent(representation: Representation, request: FastifyRequest, reply: FastifyReply, delivery: ContentDeliveryOptions) {
  const etag = entityTag(representation.digest);
  const { lastModified } = representation;
  const headers = singleValued(request.headers);
  const notModified = headers['if-none-match'] !== undefined
    ? noneMatchHits(headers['if-none-match'], etag)
    : notModifiedSince(headers['if-modified-since'], lastModified);
  reply.header('accept-ranges', 'bytes');
  if (notModified) {
    reply.header('etag', etag).header('last-modified', lastModified.toUTCString()).header('cache-control', IMMUTABLE);
    reply.header('x-content-type-options', 'nosniff');
    return reply.code(304).send();
  }
  const content = await representation.prepare();
  // RFC 9110 14.2: Range is ignored for any method but GET, so HEAD answers what GET without Range would.
  const range = request.method !== 'GET' || !ifRangeAllows(headers['if-range'], etag, lastModified)
    ? ({ kind: 'none' } as const)
    : parseRange(headers.range, content.byteSize);
  if (range.kind === 'unsatisfiable') {
    // Thrown before the caching headers are set: an error body must not be cached as immutable.
    reply.header('content-range', `bytes */${content.byteSize}`);
    throw new RangeNotSatisfiableError(`The image has ${content.byteSize} bytes; the requested range lies outside them`);
  }
  if (delivery.mode === 'redirect' && request.method === 'GET' && representation.presign !== undefined) {
    // Minted after the lookup, so only existing images get a URL, and never stored. The object's own
    // answer carries the immutable caching; the redirect itself must not outlive the URL's signature.
    const url = await representation.presign({ expiresInSeconds: delivery.presignExpiresSeconds, cacheControl: IMMUTABLE });
    if (url !== undefined) return reply.code(302).header('location', url).header('cache-control', 'no-store').send();
  }
  // Opened before any header commits to success, so a missing object is a plain 500 and an unreachable
  // store a 503. HEAD and 304 never open the bytes (a variant's HEAD makes it, to know its size).
  const bytes = request.method === 'HEAD' ? undefined : await content.open(range.kind === 'range' ? range.range : undefined);
  reply.header('etag', etag).header('last-modified', lastModified.toUTCString()).header('cache-control', IMMUTABLE);
  reply.header('x-content-type-options', 'nosniff');
  reply.type(representation.contentType);
  if (range.kind === 'range') {
    const { start, end } = range.range;
    reply.code(206).header('content-range', `bytes ${start}-${end}/${content.byteSize}`).header('content-length', end - start + 1);
  } else {
    reply.header('content-length', content.byteSize);
  }
  return reply.send(bytes);
}

/** The original bytes as stored. */
function originalOf(service: PublicImageService, info: ContentInfo): Representation {
  return {
    digest: info.sha256,
    lastModified: new Date(info.created_at),
    contentType: info.content_type,
    prepare: async () => ({ byteSize: info.byte_size, open: (range) => service.openContent(info, range) }),
    presign: (options) => service.presignContent(info, options),
  };
}

/** A thumbnail `width` pixels wide in the format `Accept` prefers (docs/API.md, "Thumbnails"). */
function variantOf(variants: ImageVariants, info: ContentInfo, width: ThumbnailWidth, accept: string | undefined): Representation {
  const mediaType = preferredImageFormat(accept) ?? variantMediaTypeFor(info.content_type);
  return {
    digest: variants.entityDigest(info, width, mediaType),
    lastModified: new Date(info.created_at),
    contentType: mediaType,
    prepare: () => variants.prepare(info, width, mediaType),
  };
}

function thumbnailWidthError(): DataValidationError {
  const allowed = THUMBNAIL_WIDTHS.join(', ');
  return new DataValidationError(`w must be one of ${allowed}`, { errors: [{ path: '/querystring/w', message: `must be one of ${allowed}` }] });
}

/**
 * Refuses a `w` that is not literally one of the ladder's numbers before the schema converts it
 * (the querystring coercion would read `256.5` or `0256` as 256).
 */
function checkThumbnailWidth(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  const query = request.url.indexOf('?');
  if (query < 0) return done();
  const values = new URLSearchParams(request.url.slice(query + 1)).getAll('w');
  if (values.length === 0) return done();
  const ok = values.length === 1 && (THUMBNAIL_WIDTHS as readonly number[]).some((width) => String(width) === values[0]);
  done(ok ? undefined : thumbnailWidthError());
}

const ContentQuery = Type.Object(
  {
    w: Type.Optional(
      Type.Integer({
        description: `Thumbnail width in pixels, one of ${THUMBNAIL_WIDTHS.join(', ')}; never larger than the original. The format then follows \`Accept\` (AVIF, WebP, else the original's) and the response has \`Vary: Accept\`.`,
      }),
    ),
  },
  { additionalProperties: false },
);

/** GET /image, /image/{guid}, /image/{guid}/content: public and read-only. */
export async function publicImageRoutes(
  instance: FastifyInstance,
  opts: { images: PublicImageService; variants: ImageVariants; contentDelivery?: ContentDeliveryOptions },
) {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { images } = opts;
  const delivery = opts.contentDelivery ?? STREAM;

  app.get(
    '/',
    {
      schema: {
        operationId: 'listImages',
        tags: ['images'],
        summary: 'List images, newest first',
        description: 'Keyset-paginated. When more images follow, the response has a `Link: <...>; rel="next"` header.',
        querystring: ImageListQuerySchema,
        response: {
          200: Type.Ref('ImageList', { description: 'One page of images' }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const page = await images.list(request.query);
      if (page.nextCursor !== undefined) reply.header('link', nextLink(app.prefix, request.query, page.nextCursor));
      return page.images;
    },
  );

  app.get(
    '/:guid',
    {
      schema: {
        operationId: 'getImage',
        tags: ['images'],
        summary: "One image's details",
        params: GuidParams,
        response: {
          200: Type.Ref('ImageDetail', { description: 'The image' }),
          404: problem('No image has this guid'),
          ...problemResponses,
        },
      },
    },
    async (request) => images.getDetail(request.params.guid),
  );

  const contentSchema = {
    tags: ['images'],
    params: GuidParams,
    querystring: ContentQuery,
    response: {
      200: { description: 'The bytes (the original\'s media type, or with `w` the negotiated one)', content: IMAGE_CONTENT },
      206: { description: 'One byte range of the image', content: IMAGE_CONTENT },
      304: { description: 'Not modified: the cached copy is current' },
      404: problem('No image has this guid'),
      416: problem('The range lies outside the image'),
      ...problemResponses,
      500: problem('Unexpected server fault, also an original too large to make a thumbnail of'),
      503: problem(
        'The database or the object store holding the bytes is unavailable or slower than STORE_TIMEOUT_MS ' +
          '(`DBConnectionError`, `ObjectStoreUnavailableError`), or too many thumbnails are being made; ' +
          'retry after `Retry-After` seconds',
      ),
    },
  };
  const contentHandler = async (request: FastifyRequest<{ Params: { guid: string }; Querystring: { w?: number } }>, reply: FastifyReply) => {
    const { w } = request.query;
    if (w !== undefined && !isThumbnailWidth(w)) throw thumbnailWidthError();
    // Set before anything can fail: a cache must key every answer to a thumbnail URL on Accept.
    if (w !== undefined) reply.header('vary', 'Accept');
    const info = await images.getContentInfo(request.params.guid);
    const representation = w === undefined ? originalOf(images, info) : variantOf(opts.variants, info, w, request.headers.accept);
    return sendContent(representation, request, reply, delivery);
  };

  // HEAD is its own route: Fastify's automatic HEAD route would set Content-Length to the length of
  // the (empty) payload instead of the image's.
  app.head('/:guid/content', {
    preValidation: checkThumbnailWidth,
    schema: {
      ...contentSchema,
      operationId: 'headImageContent',
      summary: "The image's headers without its bytes",
      description: 'The headers GET would send, including `Content-Length`, with no body.',
    },
  }, contentHandler);

  app.get(
    '/:guid/content',
    {
      exposeHeadRoute: false,
      preValidation: checkThumbnailWidth,
      schema: {
        ...contentSchema,
        response: {
          ...contentSchema.response,
          302: {
            description:
              'Only with `CONTENT_DELIVERY=redirect` and bytes in S3: `Location` is a presigned URL of the object, ' +
              'minted for this request and valid `PRESIGN_EXPIRES_SECONDS`; `Cache-Control: no-store`',
          },
        },
        operationId: 'getImageContent',
        summary: "The image's bytes",
        description:
          'Served like a CDN origin: strong `ETag`, `Last-Modified`, `Cache-Control: immutable`, conditional ' +
          'requests (304), `HEAD`, and single `Range` requests (206/416), streamed from the store the image ' +
          'is kept in. With `CONTENT_DELIVERY=redirect`, a GET for bytes kept in S3 that is not answered 304 ' +
          'is answered 302 to a presigned URL instead.',
      },
    },
    contentHandler,
  );
}
