/**
 * Every failure pixyproxy understands is a PixyproxyError subclass. Core knows no transport: the HTTP
 * status of each class lives in one table in the web layer (web/problem.ts, STATUS_BY_ERROR).
 */

export interface FieldError {
  path: string;
  message: string;
}

export interface PixyproxyErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying; becomes `Retry-After`. */
  retryAfterSeconds?: number;
  /** Field-level problems, for validation failures. */
  errors?: FieldError[];
}

export abstract class PixyproxyError extends Error {
  readonly retryAfterSeconds: number | undefined;
  readonly errors: FieldError[] | undefined;

  constructor(message: string, options: PixyproxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.errors = options.errors;
  }
}

export class BadRequestError extends PixyproxyError {}
export class DataValidationError extends PixyproxyError {}
export class AuthenticationError extends PixyproxyError {}
export class OperationNotAllowedError extends PixyproxyError {}
export class RecordNotFoundError extends PixyproxyError {}
export class EndpointNotFoundError extends PixyproxyError {}
export class ConstraintViolationError extends PixyproxyError {}
export class PayloadTooLargeError extends PixyproxyError {}
export class UnsupportedMediaTypeError extends PixyproxyError {}
export class RangeNotSatisfiableError extends PixyproxyError {}
/** The request did not arrive in full within the server's request timeout (RFC 9110 15.5.9). */
export class RequestTimeoutError extends PixyproxyError {}
/** The request target is longer than the server reads (RFC 9110 15.5.15). */
export class UriTooLongError extends PixyproxyError {}
/** An `Expect` the server cannot meet; only `100-continue` is known (RFC 9110 10.1.1). */
export class ExpectationFailedError extends PixyproxyError {}
/** The header section is larger than the server reads (RFC 6585 section 5). */
export class RequestHeaderFieldsTooLargeError extends PixyproxyError {}
export class PromptRejectedError extends PixyproxyError {}
/** An Idempotency-Key used again with a different request (Stripe's semantics): 422. */
export class IdempotencyKeyReusedError extends PixyproxyError {}
/** An Idempotency-Key whose first request is still running: 409, retry later to get its response. */
export class IdempotencyKeyInUseError extends ConstraintViolationError {}
export class TooManyRequestsError extends PixyproxyError {}
/** A user's quota (images per day, USD per month) would be exceeded; Retry-After is the period's end. */
export class QuotaExceededError extends PixyproxyError {}
export class InternalServerError extends PixyproxyError {}
export class ImageGenerationError extends PixyproxyError {}
export class DBConnectionError extends PixyproxyError {}
export class ServiceUnavailableError extends PixyproxyError {}
/**
 * Redis, where limits and jobs shared by all instances live, is unreachable or too slow. A 503: the
 * request is refused rather than let through unlimited, and may be retried after Retry-After.
 */
export class SharedStateUnavailableError extends ServiceUnavailableError {}
export class GenerationTimeoutError extends PixyproxyError {}
/**
 * The object store holding image bytes did not answer in time, refused the connection or answered
 * with a server error (S3 5xx, `SlowDown`). Temporary: answered 503 with `Retry-After`.
 */
export class ObjectStoreUnavailableError extends ServiceUnavailableError {}
/** Raised by configuration loading; never reaches HTTP (the process exits instead). */
export class ConfigurationError extends PixyproxyError {}

/** Default seconds for Retry-After on retryable failures that did not set their own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * An error as a job record keeps it: enough to answer later with the problem+json the synchronous
 * call would have given (same class, message, Retry-After and field errors).
 */
export interface SerializedError {
  /** The class name, e.g. `PromptRejectedError`. */
  name: string;
  message: string;
  retryAfterSeconds?: number;
  errors?: FieldError[];
}

// Every class a job may fail with, by name. Kept complete by test/core/errors.test.ts, which
// round-trips each exported PixyproxyError subclass: a class missing here would come back as a 500.
const ERROR_CLASSES: Readonly<Record<string, new (message: string, options?: PixyproxyErrorOptions) => PixyproxyError>> = {
  BadRequestError,
  DataValidationError,
  AuthenticationError,
  OperationNotAllowedError,
  RecordNotFoundError,
  EndpointNotFoundError,
  ConstraintViolationError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  RangeNotSatisfiableError,
  RequestTimeoutError,
  UriTooLongError,
  ExpectationFailedError,
  RequestHeaderFieldsTooLargeError,
  PromptRejectedError,
  QuotaExceededError,
  IdempotencyKeyReusedError,
  IdempotencyKeyInUseError,
  TooManyRequestsError,
  InternalServerError,
  ImageGenerationError,
  DBConnectionError,
  ServiceUnavailableError,
  SharedStateUnavailableError,
  ObjectStoreUnavailableError,
  GenerationTimeoutError,
  ConfigurationError,
};

/** Any error as a SerializedError; what is not ours becomes an InternalServerError without its message. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof PixyproxyError) || ERROR_CLASSES[error.name] === undefined) {
    return { name: 'InternalServerError', message: 'An unexpected error occurred' };
  }
  return {
    name: error.name,
    message: error.message,
    ...(error.retryAfterSeconds !== undefined && { retryAfterSeconds: error.retryAfterSeconds }),
    ...(error.errors !== undefined && { errors: error.errors }),
  };
}

/** The error a SerializedError describes; an unknown name becomes an InternalServerError. */
export function deserializeError(serialized: SerializedError, cause?: unknown): PixyproxyError {
  const ErrorClass = ERROR_CLASSES[serialized.name] ?? InternalServerError;
  return new ErrorClass(serialized.message, {
    ...(cause !== undefined && { cause }),
    ...(serialized.retryAfterSeconds !== undefined && { retryAfterSeconds: serialized.retryAfterSeconds }),
    ...(serialized.errors !== undefined && { errors: serialized.errors }),
  });
}
