import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_RETRY_AFTER_SECONDS, type PixyproxyError } from '../core/errors.js';
import type { OpenAIError } from '../core/models/openai-images.js';
import { asPixyproxyError, statusOf } from './problem.js';

export interface OpenAIErrorResponse {
  status: number;
  body: OpenAIError;
  retryAfterSeconds: number | undefined;
  /** False when a retry cannot help soon (an exhausted quota): sent as `x-should-retry`, which the SDKs obey. */
  shouldRetry: boolean | undefined;
}

/** `/body/size` -> `size`: OpenAI names the offending request field by its plain name. */
function paramOf(error: PixyproxyError): string | null {
  const path = error.errors?.[0]?.path;
  if (path === undefined) return null;
  const field = path.replace(/^\/(body|querystring|params)(\/|$)/, '').replaceAll('/', '.');
  return field === '' ? null : field;
}

/**
 * OpenAI's error body and status for one of our errors, so an OpenAI SDK raises what it would raise
 * against OpenAI: 400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
 * NotFoundError, 429 RateLimitError, 5xx InternalServerError (openai-node `APIError.generate`).
 * A refused prompt is 400 `content_policy_violation` there, not our 422. Types and codes follow the
 * values OpenAI's API sends (`invalid_request_error` + `invalid_api_key`, `requests` +
 * `rate_limit_exceeded`, `insufficient_quota`, `server_error`).
 */
export function openAIErrorFor(error: PixyproxyError): OpenAIErrorResponse {
  const { status: ourStatus } = statusOf(error);
  const retryAfterSeconds = error.retryAfterSeconds ?? (ourStatus === 503 || ourStatus === 429 ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  const answer = (status: number, type: string, code: string | null, shouldRetry?: boolean): OpenAIErrorResponse => ({
    status,
    body: { error: { message: error.message || 'Request failed', type, param: paramOf(error), code } },
    retryAfterSeconds,
    shouldRetry,
  });
  if (error.name === 'PromptRejectedError') return answer(400, 'invalid_request_error', 'content_policy_violation');
  if (error.name === 'QuotaExceededError') return answer(429, 'insufficient_quota', 'insufficient_quota', false);
  switch (ourStatus) {
    case 401:
      return answer(401, 'invalid_request_error', 'invalid_api_key');
    case 403:
      return answer(403, 'invalid_request_error', 'permission_denied');
    case 404:
      return answer(404, 'invalid_request_error', 'not_found');
    case 429:
      return answer(429, 'requests', 'rate_limit_exceeded');
  }
  if (ourStatus >= 500) return answer(ourStatus, 'server_error', null);
  return answer(ourStatus, 'invalid_request_error', error.errors === undefined ? null : 'invalid_value');
}

/**
 * Answers a failure under /v1 in OpenAI's shape; the same logging and headers as problem+json
 * otherwise (request id in the log line, `Retry-After`, `WWW-Authenticate: Bearer` on 401).
 */
export function sendOpenAIError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const ours = asPixyproxyError(error);
  const { status, body, retryAfterSeconds, shouldRetry } = openAIErrorFor(ours);
  if (status >= 500) request.log.error({ err: ours.cause ?? error, error: ours.name }, ours.message);
  else request.log.debug({ error: ours.name, detail: body.error.message }, 'request refused');
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  if (shouldRetry !== undefined) reply.header('x-should-retry', String(shouldRetry));
  // RFC 6750 section 3: the challenge names the bearer scheme, with `invalid_token` when one was refused.
  if (status === 401) {
    reply.header('www-authenticate', request.authScheme === 'bearer' ? 'Bearer realm="pixyproxy", error="invalid_token"' : 'Bearer realm="pixyproxy"');
  }
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
