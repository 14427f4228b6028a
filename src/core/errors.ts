/**
 * Every failure pixyproxy understands is a PixyproxyError subclass. The HTTP status of each lives in
 * one table (STATUS_BY_ERROR) so the web layer never decides statuses case by case.
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
export class UnauthorizedError extends PixyproxyError {}
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
export class TooManyRequestsError extends PixyproxyError {}
export class InternalServerError extends PixyproxyError {}
export class ImageGenerationError extends PixyproxyError {}
export class DBConnectionError extends PixyproxyError {}
export class ServiceUnavailableError extends PixyproxyError {}
export class GenerationTimeoutError extends PixyproxyError {}
/** Raised by configuration loading; never reaches HTTP (the process exits instead). */
export class ConfigurationError extends PixyproxyError {}

type ErrorClass = abstract new (...args: never[]) => PixyproxyError;

const STATUS_BY_ERROR: ReadonlyArray<readonly [ErrorClass, number, string]> = [
  [BadRequestError, 400, 'Bad Request'],
  [DataValidationError, 400, 'Invalid Data'],
  [AuthenticationError, 401, 'Authentication Required'],
  [UnauthorizedError, 401, 'Unauthorized'],
  [OperationNotAllowedError, 403, 'Operation Not Allowed'],
  [RecordNotFoundError, 404, 'Record Not Found'],
  [EndpointNotFoundError, 404, 'Endpoint Not Found'],
  [ConstraintViolationError, 409, 'Constraint Violation'],
  [PayloadTooLargeError, 413, 'Payload Too Large'],
  [UnsupportedMediaTypeError, 415, 'Unsupported Media Type'],
  [RequestTimeoutError, 408, 'Request Timeout'],
  [UriTooLongError, 414, 'URI Too Long'],
  [RangeNotSatisfiableError, 416, 'Range Not Satisfiable'],
  [ExpectationFailedError, 417, 'Expectation Failed'],
  [RequestHeaderFieldsTooLargeError, 431, 'Request Header Fields Too Large'],
  [PromptRejectedError, 422, 'Prompt Rejected'],
  [TooManyRequestsError, 429, 'Too Many Requests'],
  [InternalServerError, 500, 'Internal Server Error'],
  [ImageGenerationError, 502, 'Image Generation Failed'],
  [DBConnectionError, 503, 'Database Unavailable'],
  [ServiceUnavailableError, 503, 'Service Unavailable'],
  [GenerationTimeoutError, 504, 'Image Generation Timed Out'],
  [ConfigurationError, 500, 'Internal Server Error'],
];

export interface ErrorStatus {
  status: number;
  title: string;
}

const UNKNOWN: ErrorStatus = { status: 500, title: 'Internal Server Error' };

/** The status and title an error is answered with; anything not ours is a 500. */
export function statusOf(error: unknown): ErrorStatus {
  if (error instanceof PixyproxyError) {
    for (const [cls, status, title] of STATUS_BY_ERROR) {
      if (error instanceof cls) return { status, title };
    }
  }
  return UNKNOWN;
}

/** Default seconds for Retry-After on retryable failures that did not set their own. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
