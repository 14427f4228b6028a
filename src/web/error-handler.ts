import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { BadRequestError, EndpointNotFoundError } from '../core/errors.js';
import { asPixyproxyError, problemFor } from './problem.js';

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const ours = asPixyproxyError(error);
  const { status, body, retryAfterSeconds } = problemFor(ours, request.url.split('?')[0] ?? '/', request.id);
  // Logged through request.log so the line carries the request id.
  if (status >= 500) request.log.error({ err: ours.cause ?? error, error: ours.name }, ours.message);
  else request.log.debug({ error: ours.name, detail: body.detail }, 'request refused');
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  if (ours.name === 'AuthenticationError' || ours.name === 'UnauthorizedError') {
    reply.header('www-authenticate', 'Basic realm="pixyproxy", charset="UTF-8"');
  }
  return reply.code(status).type('application/problem+json; charset=utf-8').send(body);
}

/**
 * Fastify answers a few malformed URLs itself, before routing and before any hook runs (so neither
 * the request log nor helmet sees them). This handler makes those answers problem+json too, with the
 * request's two log lines and a strict header set, since the body is never meant to be rendered.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0] ?? '/';
  request.log.info({ method: request.method, path, remote_address: request.ip }, 'request started');
  reply.header('x-request-id', request.id);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  reply.header('referrer-policy', 'no-referrer');
  reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  const refused = error.code === 'FST_ERR_BAD_URL' ? new BadRequestError('The URL is not validly percent-encoded', { cause: error }) : error;
  void sendProblem(refused, request, reply);
  request.log.info({ status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request completed');
}

/** The one place where failures become responses: RFC 9457 problem+json, no stack traces. */
export const errorHandler = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(error, request, reply));
    app.setNotFoundHandler((request, reply) =>
      sendProblem(new EndpointNotFoundError(`No endpoint ${request.method} ${request.url.split('?')[0]}`), request, reply),
    );
  },
  { name: 'error-handler' },
);
