import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { ConfigurationError } from '../../src/core/errors.js';

describe('PUBLIC_BASE_URL', () => {
  it('is undefined when unset, so image URLs are derived from each request', () => {
    expect(loadConfig({}).publicBaseUrl).toBeUndefined();
  });

  it.each([
    ['https://images.example.com', 'https://images.example.com'],
    ['https://images.example.com/', 'https://images.example.com'],
    ['http://10.0.0.5:8000/pixy/', 'http://10.0.0.5:8000/pixy'],
  ])('takes %j as the origin %j, without a trailing slash', (raw, expected) => {
    expect(loadConfig({ PUBLIC_BASE_URL: raw }).publicBaseUrl).toBe(expected);
  });

  it.each(['images.example.com', 'ftp://example.com', 'https://example.com/?a=1', 'https://example.com/#top'])('refuses %j', (raw) => {
    expect(() => loadConfig({ PUBLIC_BASE_URL: raw })).toThrow(ConfigurationError);
    expect(() => loadConfig({ PUBLIC_BASE_URL: raw })).toThrow(/PUBLIC_BASE_URL/);
  });
});
