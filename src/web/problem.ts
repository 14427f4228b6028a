import {
  BadRequestError,
  DataValidationError,
  DEFAULT_RETRY_AFTER_SECONDS,
  EndpointNotFoundError,
  InternalServerError,
  PayloadTooLargeError,
  PixyproxyError,
  statusOf,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
} from '../core/errors.js';
import { fieldErrorsOf, summarise } from '../service/schema-check.js';
import type { Problem } from '../core/models/problem.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: Parameters<typeof fieldErrorsOf>[0];
  validationContext?: string;
}

/** Turns anything thrown while handling a request into one of our errors. */
export function asPixyproxyError(error: unknown): PixyproxyError {
  if (error instanceof PixyproxyError) return error;
  const e = (error ?? {}) as FastifyLikeError;
  if (e.validation) {
    const errors = fieldErrorsOf(e.validation, `/${e.validationContext ?? 'body'}`);
    return new DataValidationError(summarise(errors), { errors, cause: error });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError('Send the body as application/json', { cause: error });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError('The request body is too large', { cause: error });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BadRequestError('The request body is not valid JSON', { cause: error });
  }
  const status = e.statusCode ?? 500;
  if (status === 404) return new EndpointNotFoundError('No such endpoint', { cause: error });
  if (status === 413) return new PayloadTooLargeError('The request body is too large', { cause: error });
  if (status === 415) return new UnsupportedMediaTypeError('Unsupported content type', { cause: error });
  if (status === 429) return new TooManyRequestsError('Too many requests', { cause: error });
  // Fastify's own 4xx messages describe the request, not the server, so they are safe to pass on.
  if (status >= 400 && status < 500) return new BadRequestError(e.message ?? 'Bad request', { cause: error });
  return new InternalServerError('An unexpected error occurred', { cause: error });
}

function problemType(error: PixyproxyError): string {
  const slug = error.name.replace(/Error$/, '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  return `urn:pixyproxy:problem:${slug}`;
}

export interface ProblemResponse {
  status: number;
  body: Problem;
  retryAfterSeconds: number | undefined;
}

/** The RFC 9457 body for an error. Our messages are written for clients; causes never are. */
export function problemFor(error: PixyproxyError, instance: string, requestId: string): ProblemResponse {
  const { status, title } = statusOf(error);
  const body: Problem = {
    type: problemType(error),
    title,
    status,
    detail: error.message || title,
    instance,
    error: error.name,
    request_id: requestId,
    ...(error.errors && { errors: error.errors }),
  };
  const retryAfterSeconds = error.retryAfterSeconds ?? (status === 503 || status === 429 ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  return { status, body, retryAfterSeconds };
}
