import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** True when the request announces no content: no Transfer-Encoding and no or a zero Content-Length (RFC 9112 6.3). */
export function carriesNoContent(request: FastifyRequest): boolean {
  const headers = request.raw.headers;
  return headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0');
}

/**
 * A request with no content is not judged by the Content-Type of content it does not have. Some
 * REST clients send `Content-Type: application/json` (or `text/plain`) on every request, DELETE
 * included; Fastify would then try to parse an empty body (400 "not valid JSON") or refuse the type
 * (415). For a route that takes no body, such a header is dropped before Fastify looks at it. A
 * route with a body schema keeps it, so an empty POST or PATCH is still refused as an empty body.
 */
export const bodilessRequests = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.raw.headers['content-type'] !== undefined && request.routeOptions.schema?.body === undefined && carriesNoContent(request)) {
        delete request.raw.headers['content-type'];
      }
      done();
    });
  },
  { name: 'bodiless-requests' },
);
