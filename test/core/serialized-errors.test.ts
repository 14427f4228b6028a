import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  GenerationTimeoutError,
  ObjectStoreUnavailableError,
  PromptRejectedError,
  QuotaExceededError,
  SharedStateUnavailableError,
  serializeError,
} from '../../src/core/errors.js';

describe('serializeError / deserializeError (a generation job failure)', () => {
  it.each([
    ['QuotaExceededError', () => new QuotaExceededError('The daily image quota is used up', { retryAfterSeconds: 3600 })],
    ['ObjectStoreUnavailableError', () => new ObjectStoreUnavailableError('The object store did not answer')],
    ['PromptRejectedError', () => new PromptRejectedError('Refused')],
    ['SharedStateUnavailableError', () => new SharedStateUnavailableError('Redis is down')],
    ['GenerationTimeoutError', () => new GenerationTimeoutError('Too slow')],
  ])('keeps a %s its class, message and Retry-After, so a job failure answers what the synchronous call would', (name, make) => {
    const original = make();
    const revived = deserializeError(JSON.parse(JSON.stringify(serializeError(original))));
    expect(revived.name).toBe(name);
    expect(revived).toBeInstanceOf(original.constructor);
    expect(revived.message).toBe(original.message);
    expect(revived.retryAfterSeconds).toBe(original.retryAfterSeconds);
  });
});
