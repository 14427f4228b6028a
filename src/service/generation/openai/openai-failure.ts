import { APIConnectionTimeoutError, APIError } from 'openai';
import {
  GenerationTimeoutError,
  ImageGenerationError,
  PixyproxyError,
  PromptRejectedError,
  ServiceUnavailableError,
} from '../../../core/errors.js';
import { retryAfterMsOf } from './openai-retry-policy.js';

/** Error codes of the provider's safety system: dall-e's and the GPT image models'. */
const REFUSAL_CODES = new Set(['content_policy_violation', 'moderation_blocked']);
const MAX_REFUSAL_LENGTH = 1000;

export interface FailureContext {
  /** Fired when OPENAI_TIMEOUT_MS ran out. */
  deadline: AbortSignal;
  /** Removes secrets (the API key) from provider text before it is logged or shown. */
  redact: (text: string) => string;
}

function providerMessageOf(error: APIError, redact: (text: string) => string): string | undefined {
  const message = (error.error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message.trim() !== '' ? redact(message.trim()).slice(0, MAX_REFUSAL_LENGTH) : undefined;
}

/** Clients get whole seconds: the provider's `retry-after` as given, else its `retry-after-ms` rounded up. */
function retryAfterSecondsOf(headers: Headers | undefined): number | undefined {
  const seconds = Number(headers?.get('retry-after') ?? '');
  if (Number.isInteger(seconds) && seconds > 0) return seconds;
  const millis = retryAfterMsOf(headers);
  return millis === undefined ? undefined : Math.max(1, Math.ceil(millis / 1000));
}

/**
 * The SDK error as the cause we log: its status, code, type and request id, with the provider's text
 * scrubbed. Providers have echoed keys back in 401 messages; the log must not keep them.
 */
function loggableCause(error: unknown, redact: (text: string) => string): unknown {
  if (!(error instanceof APIError)) return error;
  const cause = new Error(redact(error.message), error.cause === undefined ? undefined : { cause: error.cause });
  cause.name = error.constructor.name;
  cause.stack = redact(error.stack ?? '');
  return Object.assign(cause, { status: error.status, code: error.code, type: error.type, request_id: error.requestID });
}

/**
 * What a failed call to the Images API means to our client. Only a refusal passes the provider's own
 * words on (they explain what to change in the prompt); everything else gets a generic message and
 * keeps the SDK error as `cause`, which the error handler logs.
 */
export function failureOf(error: unknown, context: FailureContext): PixyproxyError {
  if (error instanceof PixyproxyError) return error;
  const cause = loggableCause(error, context.redact);
  if (context.deadline.aborted || error instanceof APIConnectionTimeoutError) {
    return new GenerationTimeoutError('The image provider did not answer in time', { cause });
  }
  if (!(error instanceof APIError)) {
    return new ImageGenerationError('The image provider returned an unreadable response', { cause });
  }
  if (error.status === 400 && REFUSAL_CODES.has(error.code ?? '')) {
    const message = providerMessageOf(error, context.redact) ?? 'The image provider refused this prompt';
    return new PromptRejectedError(message, { cause });
  }
  if ((error.status === 429 && error.code !== 'insufficient_quota') || error.status === 503) {
    const retryAfterSeconds = retryAfterSecondsOf(error.headers);
    return new ServiceUnavailableError('The image provider is busy; try again later', {
      cause,
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    });
  }
  if (error.status === undefined) {
    return new ImageGenerationError('The image provider could not be reached', { cause });
  }
  return new ImageGenerationError('The image provider failed to generate the image', { cause });
}
