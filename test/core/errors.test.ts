import { describe, expect, it } from 'vitest';
import * as errors from '../../src/core/errors.js';
import { deserializeError, PixyproxyError, serializeError } from '../../src/core/errors.js';

type ErrorClass = new (message: string, options?: errors.PixyproxyErrorOptions) => PixyproxyError;

const errorClasses = (Object.entries(errors) as [string, unknown][]).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof PixyproxyError,
);

describe('errors kept in job records', () => {
  it('finds the error classes to check', () => {
    expect(errorClasses.map(([name]) => name)).toEqual(expect.arrayContaining(['QuotaExceededError', 'ObjectStoreUnavailableError']));
  });

  it.each(errorClasses)('brings %s back as the same class with its message, Retry-After and field errors', (name, ErrorClass) => {
    const original = new ErrorClass(`${name} happened`, { retryAfterSeconds: 7, errors: [{ path: '/body/size', message: 'bad' }] });
    const restored = deserializeError(JSON.parse(JSON.stringify(serializeError(original))));
    expect(restored).toBeInstanceOf(ErrorClass);
    expect(restored.name).toBe(name);
    expect(restored.message).toBe(`${name} happened`);
    expect(restored.retryAfterSeconds).toBe(7);
    expect(restored.errors).toEqual([{ path: '/body/size', message: 'bad' }]);
  });

  it('turns an error that is not ours into an InternalServerError without its message', () => {
    const restored = deserializeError(serializeError(new Error('secret detail')));
    expect(restored).toBeInstanceOf(errors.InternalServerError);
    expect(restored.message).not.toContain('secret');
  });
});
