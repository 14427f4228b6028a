import { findRedisServerBinary, RedisTestServer } from './redis-server.js';
import { suiteServerGlobalSetup } from './suite-server-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** REDIS_URL of the redis-server the Redis suites share (each test uses its own key prefix); '' when skipped. */
    redisServerUrl: string;
  }
}

/**
 * One redis-server per test run, shared by every test file (each test uses its own key prefix).
 * TEST_REDIS_URL points at an existing server instead. With no redis-server binary the Redis suites
 * are skipped, except under CI=true, where a skipped suite would hide a failure.
 */
export default suiteServerGlobalSetup('redisServerUrl', {
  suites: 'Redis',
  externalUrlVariable: 'TEST_REDIS_URL',
  missing: 'no redis-server binary found',
  canStart: () => findRedisServerBinary() !== undefined,
  start: async () => {
    const server = await RedisTestServer.create();
    return { url: server.url, description: `a throwaway redis-server on 127.0.0.1:${server.port}`, stop: () => server.destroy() };
  },
});
