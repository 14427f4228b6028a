import {
  AuthenticationError,
  BadRequestError,
  ConfigurationError,
  ConstraintViolationError,
  DataValidationError,
  DBConnectionError,
  DEFAULT_RETRY_AFTER_SECONDS,
  EndpointNotFoundError,
  GenerationTimeoutError,
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  ImageGenerationError,
  InternalServerError,
  ObjectStoreUnavailableError,
  OperationNotAllowedError,
  PayloadTooLargeError,
  PixyproxyError,
  PromptRejectedError,
  QuotaExceededError,
  RangeNotSatisfiableError,
  RecordNotFoundError,
  RequestHeaderFieldsTooLargeError,
  RequestTimeoutError,
  UriTooLongError,
  ExpectationFailedError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
} from '../core/errors.js';
import type { Problem } from '../core/models/problem.js';
import { fieldErrorsOf, summarise } from './field-errors.js';

type ErrorClass = abstract new (...args: never[]) => PixyproxyError;

/** The one status table: each error class and the HTTP status and problem title it is answered with. */
const STATUS_BY_ERROR: ReadonlyArray<readonly [ErrorClass, number, string]> = [
  [BadRequestError, 400, 'Bad Request'],
  [DataValidationError, 400, 'Invalid Data'],
  [AuthenticationError, 401, 'Authentication Required'],
  [OperationNotAllowedError, 403, 'Operation Not Allowed'],
  [RecordNotFoundError, 404, 'Record Not Found'],
  [EndpointNotFoundError, 404, 'Endpoint Not Found'],
  [IdempotencyKeyInUseError, 409, 'Idempotency Key In Use'],
  [ConstraintViolationError, 409, 'Constraint Violation'],
  [PayloadTooLargeError, 413, 'Payload Too Large'],
  [UnsupportedMediaTypeError, 415, 'Unsupported Media Type'],
  [RequestTimeoutError, 408, 'Request Timeout'],
  [UriTooLongError, 414, 'URI Too Long'],
  [RangeNotSatisfiableError, 416, 'Range Not Satisfiable'],
  [ExpectationFailedError, 417, 'Expectation Failed'],
  [RequestHeaderFieldsTooLargeError, 431, 'Request Header Fields Too Large'],
  [PromptRejectedError, 422, 'Prompt Rejected'],
  [IdempotencyKeyReusedError, 422, 'Idempotency Key Reused'],
  [TooManyRequestsError, 429, 'Too Many Requests'],
  [QuotaExceededError, 429, 'Quota Exceeded'],
  [InternalServerError, 500, 'Internal Server Error'],
  [ImageGenerationError, 502, 'Image Generation Failed'],
  [DBConnectionError, 503, 'Database Unavailable'],
  [ObjectStoreUnavailableError, 503, 'Object Store Unavailable'],
  [ServiceUnavailableError, 503, 'Service Unavailable'],
  [GenerationTimeoutError, 504, 'Image Generation Timed Out'],
  [ConfigurationError, 500, 'Internal Server Error'],
];

export interface ErrorStatus {
  status: number;
  title: string;
}

const UNKNOWN: ErrorStatus = { status: 500, title: 'Internal Server Error' };

/** The status and title an error is answered with (RFC 9110 section 15); anything not ours is a 500. */
export function statusOf(error: unknown): ErrorStatus {
  if (error instanceof PixyproxyError) {
    for (const [cls, status, title] of STATUS_BY_ERROR) {
      if (error instanceof cls) return { status, title };
    }
  }
  return UNKNOWN;
}


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
