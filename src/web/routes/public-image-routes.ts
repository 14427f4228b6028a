import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { RangeNotSatisfiableError } from '../../core/errors.js';
import { ImageListQuerySchema, type ContentInfo, type ImageListQuery } from '../../core/models/image.js';
import type { PublicImageService } from '../../service/images/index.js';
import { entityTag, ifRangeAllows, noneMatchHits, notModifiedSince, parseRange } from '../http-caching.js';
import { GuidParams, problem, problemResponses } from './route-schemas.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The `Link: rel="next"` target: the same query with the new cursor. */
function nextLink(prefix: string, query: ImageListQuery, cursor: string): string {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.tag !== undefined) params.set('tag', query.tag);
  if (query.author !== undefined) params.set('author', query.author);
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

async function sendContent(
  service: PublicImageService,
  info: ContentInfo,
  request: FastifyRequest,
  reply: FastifyReply,
  delivery: ContentDeliveryOptions,
) {
  const etag = entityTag(info.sha256);
  const lastModified = new Date(info.created_at);
  const headers = singleValued(request.headers);
  const notModified = headers['if-none-match'] !== undefined
    ? noneMatchHits(headers['if-none-match'], etag)
    : notModifiedSince(headers['if-modified-since'], lastModified);
  // RFC 9110 14.2: Range is ignored for any method but GET, so HEAD answers what GET without Range would.
  const range = request.method !== 'GET' || notModified || !ifRangeAllows(headers['if-range'], etag, lastModified)
    ? ({ kind: 'none' } as const)
    : parseRange(headers.range, info.byte_size);
  reply.header('accept-ranges', 'bytes');
  if (range.kind === 'unsatisfiable') {
    // Thrown before the caching headers are set: an error body must not be cached as immutable.
    reply.header('content-range', `bytes */${info.byte_size}`);
    throw new RangeNotSatisfiableError(`The image has ${info.byte_size} bytes; the requested range lies outside them`);
  }
  if (delivery.mode === 'redirect' && !notModified && request.method === 'GET') {
    // Minted after the lookup, so only existing images get a URL, and never stored. The object's own
    // answer carries the immutable caching; the redirect itself must not outlive the URL's signature.
    const url = await service.presignContent(info, { expiresInSeconds: delivery.presignExpiresSeconds, cacheControl: IMMUTABLE });
    if (url !== undefined) return reply.code(302).header('location', url).header('cache-control', 'no-store').send();
  }
  // Opened before any header commits to success, so a missing object is a plain 500 and an unreachable
  // store a 503. HEAD and 304 answer from the row alone and never touch the bytes.
  const bytes = notModified || request.method === 'HEAD'
    ? undefined
    : await service.openContent(info, range.kind === 'range' ? range.range : undefined);
  reply.header('etag', etag).header('last-modified', lastModified.toUTCString()).header('cache-control', IMMUTABLE);
  reply.header('x-content-type-options', 'nosniff');
  if (notModified) return reply.code(304).send();
  reply.type(info.content_type);
  if (range.kind === 'range') {
    const { start, end } = range.range;
    reply.code(206).header('content-range', `bytes ${start}-${end}/${info.byte_size}`).header('content-length', end - start + 1);
  } else {
    reply.header('content-length', info.byte_size);
  }
  return reply.send(bytes);
}

/** GET /image, /image/{guid}, /image/{guid}/content: public and read-only. */
export async function publicImageRoutes(
  instance: FastifyInstance,
  opts: { images: PublicImageService; contentDelivery?: ContentDeliveryOptions },
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
    response: {
      200: { description: 'The bytes (`image/png`)', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
      206: { description: 'One byte range of the image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
      304: { description: 'Not modified: the cached copy is current' },
      404: problem('No image has this guid'),
      416: problem('The range lies outside the image'),
      ...problemResponses,
      503: problem(
        'The database or the object store holding the bytes is unavailable or slower than STORE_TIMEOUT_MS ' +
          '(`DBConnectionError`, `ObjectStoreUnavailableError`); retry after `Retry-After` seconds',
      ),
    },
  };
  const contentHandler = async (request: FastifyRequest<{ Params: { guid: string } }>, reply: FastifyReply) =>
    sendContent(images, await images.getContentInfo(request.params.guid), request, reply, delivery);

  // HEAD is its own route: Fastify's automatic HEAD route would set Content-Length to the length of
  // the (empty) payload instead of the image's.
  app.head('/:guid/content', {
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
