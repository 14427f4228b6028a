import type { TestProject } from 'vitest/node';
import { findRedisServerBinary, RedisTestServer } from './redis-server.js';

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
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env['TEST_REDIS_URL']?.trim();
  if (external) {
    console.info(`Redis suites run against TEST_REDIS_URL (${new URL(external).host})`);
    project.provide('redisServerUrl', external);
    return undefined;
  }
  if (findRedisServerBinary() === undefined) {
    const message = 'Redis suites SKIPPED: no redis-server binary found and TEST_REDIS_URL is not set';
    if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true requires them)`);
    console.warn(`\n!!! ${message} !!!\n`);
    project.provide('redisServerUrl', '');
    return undefined;
  }
  const server = await RedisTestServer.create();
  console.info(`Redis suites run against a throwaway redis-server on 127.0.0.1:${server.port}`);
  project.provide('redisServerUrl', server.url);
  return () => server.destroy();
}
