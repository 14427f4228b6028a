import { describe, expect, it } from 'vitest';
import { describeRedis, loadConfig } from '../../src/core/config.js';
import { ConfigurationError } from '../../src/core/errors.js';

describe('Redis configuration', () => {
  it('keeps all shared state in the process when REDIS_URL is unset', () => {
    expect(loadConfig({}).redis).toBeUndefined();
  });

  it('reads REDIS_URL, REDIS_KEY_PREFIX and REDIS_COMMAND_TIMEOUT_MS', () => {
    const env = { REDIS_URL: 'redis://:s3cret@cache.internal:6380/2', REDIS_KEY_PREFIX: 'pixy-prod', REDIS_COMMAND_TIMEOUT_MS: '500' };
    expect(loadConfig(env).redis).toEqual({ url: 'redis://:s3cret@cache.internal:6380/2', keyPrefix: 'pixy-prod', commandTimeoutMs: 500 });
  });

  it.each([
    ['http://cache:6379', 'REDIS_URL must look like'],
    ['not a url', 'REDIS_URL is not a valid URL'],
    ['redis://cache:6379/main', "REDIS_URL's database must be a number"],
  ])('refuses REDIS_URL=%s at start-up', (url, message) => {
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(ConfigurationError);
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(message);
  });

  it('refuses a key prefix that would need escaping', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://cache', REDIS_KEY_PREFIX: 'a b' })).toThrow(ConfigurationError);
  });

  it('refuses GENERATION_QUEUE=0 with REDIS_URL, where it would refuse every create', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://cache', GENERATION_QUEUE: '0' })).toThrow('GENERATION_QUEUE must be at least 1 with REDIS_URL');
    expect(loadConfig({ GENERATION_QUEUE: '0' }).generationQueue).toBe(0);
  });

  it('masks the password when describing the server for the log', () => {
    const redis = loadConfig({ REDIS_URL: 'redis://:s3cret@cache.internal:6380/2' }).redis!;
    expect(describeRedis(redis)).toBe('redis://:***@cache.internal:6380/2');
  });

  it('runs generation jobs in the server unless GENERATION_WORKER=false', () => {
    expect(loadConfig({}).generationWorker).toBe(true);
    expect(loadConfig({ GENERATION_WORKER: 'false' }).generationWorker).toBe(false);
  });
});
