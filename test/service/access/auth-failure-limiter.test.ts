import { describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../../../src/core/errors.js';
import { AuthFailureLimiter } from '../../../src/service/access/index.js';

function limiterAt(clock: { now: number }, maxEntries?: number) {
  return new AuthFailureLimiter({ limit: 2, windowMs: 60_000, now: () => clock.now, ...(maxEntries && { maxEntries }) });
}

describe('AuthFailureLimiter', () => {
  it('refuses an address at the limit with the seconds left in its window', () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    limiter.recordFailure('10.0.0.1', 'alice');
    limiter.recordFailure('10.0.0.1', 'bob');
    clock.now = 15_000;
    expect(() => limiter.check('10.0.0.1', 'carol')).toThrow(TooManyRequestsError);
    try {
      limiter.check('10.0.0.1', 'carol');
    } catch (error) {
      expect((error as TooManyRequestsError).retryAfterSeconds).toBe(45);
    }
  });

  it('forgets failures when the window ends', () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    limiter.recordFailure('10.0.0.1', 'alice');
    limiter.recordFailure('10.0.0.1', 'alice');
    clock.now = 60_000;
    expect(() => limiter.check('10.0.0.1', 'alice')).not.toThrow();
  });

  it('blocks a locked username only for addresses that failed against it', () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    limiter.recordFailure('10.0.0.1', 'alice');
    limiter.recordFailure('10.0.0.2', 'alice');
    expect(() => limiter.check('10.0.0.1', 'alice')).toThrow(TooManyRequestsError);
    expect(() => limiter.check('10.0.0.3', 'alice')).not.toThrow();
  });

  it('clears a client\'s record against a username after a correct password', () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    limiter.recordFailure('10.0.0.1', 'alice');
    limiter.recordFailure('10.0.0.2', 'alice');
    limiter.recordSuccess('10.0.0.2', 'alice');
    expect(() => limiter.check('10.0.0.2', 'alice')).not.toThrow();
  });

  it('keeps memory bounded by dropping the oldest windows when full', () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock, 100);
    for (let i = 0; i < 10_000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`, `user${i}`);
    limiter.recordFailure('192.0.2.1', 'x');
    limiter.recordFailure('192.0.2.1', 'x');
    // The newest address is still tracked (refused); the very first one was evicted.
    expect(() => limiter.check('192.0.2.1', 'y')).toThrow(TooManyRequestsError);
    limiter.recordFailure('10.0.0.0', 'user0');
    expect(() => limiter.check('10.0.0.0', 'user0')).not.toThrow();
  });
});
