import { describe, expect, it } from 'vitest';
import {
  DataValidationError,
  DBConnectionError,
  GenerationTimeoutError,
  OperationNotAllowedError,
  PromptRejectedError,
  ServiceUnavailableError,
} from '../../src/core/errors.js';
import { openAIErrorFor } from '../../src/web/openai-error.js';

// The statuses and codes an OpenAI SDK turns into its exceptions; the cases the SDK tests in
// openai-compatible-api.test.ts cannot reach with the local generator.
describe('openAIErrorFor', () => {
  it('answers a refused prompt as OpenAI does: 400 content_policy_violation with the provider message', () => {
    expect(openAIErrorFor(new PromptRejectedError('Your request was rejected by the safety system'))).toEqual({
      status: 400,
      body: { error: { message: 'Your request was rejected by the safety system', type: 'invalid_request_error', param: null, code: 'content_policy_violation' } },
      retryAfterSeconds: undefined,
      shouldRetry: undefined,
    });
  });

  it('names the first invalid field by its plain name', () => {
    const error = new DataValidationError('size: must be one of 1024x1024', {
      errors: [{ path: '/body/output_compression', message: 'applies only to jpeg or webp' }, { path: '/body/size', message: 'x' }],
    });
    expect(openAIErrorFor(error).body.error).toMatchObject({ param: 'output_compression', code: 'invalid_value', type: 'invalid_request_error' });
  });

  it('keeps 403 for PermissionDeniedError', () => {
    expect(openAIErrorFor(new OperationNotAllowedError('no')).status).toBe(403);
  });

  it.each([
    [new ServiceUnavailableError('busy', { retryAfterSeconds: 12 }), 503, 12],
    [new DBConnectionError('The database is unavailable'), 503, 5],
    [new GenerationTimeoutError('too slow'), 504, undefined],
  ])('keeps the server status of %s as a server_error, with its Retry-After', (error, status, retryAfter) => {
    const answer = openAIErrorFor(error);
    expect(answer).toMatchObject({ status, retryAfterSeconds: retryAfter });
    expect(answer.body.error).toMatchObject({ type: 'server_error', code: null });
  });
});
