import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AuthenticationError, BadRequestError, EndpointNotFoundError } from '../core/errors.js';
import { challengeFor } from './authentication.js';
import { asPixyproxyError, problemFor } from './problem.js';
import { finishRequest, startRequest } from './request-logging.js';
import { SECURITY_HEADERS } from './security-headers.js';

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const ours = asPixyproxyError(error);
  const { status, body, retryAfterSeconds } = problemFor(ours, request.url.split('?')[0] ?? '/', request.id);
  // Logged through request.log so the line carries the request id.
  if (status >= 500) request.log.error({ err: ours.cause ?? error, error: ours.name }, ours.message);
  else request.log.debug({ error: ours.name, detail: body.detail }, 'request refused');
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  if (ours instanceof AuthenticationError) reply.header('www-authenticate', challengeFor(request));
  return reply.code(status).type('application/problem+json; charset=utf-8').send(body);
}

/**
 * Fastify answers a few malformed URLs itself (a malformed percent-encoding in the path), before
 * routing and before any hook runs, so neither the request log nor the security-header hook sees
 * them. This handler makes those answers problem+json too, with the request's two log lines and the
 * service's one security-header policy.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  startRequest(request, reply);
  // No onResponse hook runs on this path, so the closing line is logged here.
  reply.raw.once('finish', () => finishRequest(request, reply));
  reply.headers(SECURITY_HEADERS);
  const refused = error.code === 'FST_ERR_BAD_URL' ? new BadRequestError('The URL is not validly percent-encoded', { cause: error }) : error;
  return sendProblem(refused, request, reply);
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
