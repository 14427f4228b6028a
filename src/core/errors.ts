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
export class PromptRejectedError extends PixyproxyError {}
export class TooManyRequestsError extends PixyproxyError {}
/** A user's quota (images per day, USD per month) would be exceeded; Retry-After is the period's end. */
export class QuotaExceededError extends PixyproxyError {}
export class InternalServerError extends PixyproxyError {}
export class ImageGenerationError extends PixyproxyError {}
export class DBConnectionError extends PixyproxyError {}
export class ServiceUnavailableError extends PixyproxyError {}
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
