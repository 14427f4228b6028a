import { afterEach, beforeEach, describe, expect, vi } from 'vitest';
import type { JobBody } from '../../src/core/models/job.js';
import { FakeImageGenerator } from './fakes.js';
import { redisServerUrl, testRedisConfig } from './redis.js';
import { createTestApp, type TestApp } from './test-app.js';

/**
 * The two ways the API runs generation jobs: in this process (no REDIS_URL) and on the BullMQ queue
 * in Redis (skipped when the run has no redis-server). Rules about jobs hold in both.
 */
export const JOB_MODES = [
  { name: 'in process', available: true, env: (): Record<string, string> => ({}) },
  {
    name: 'on Redis',
    available: redisServerUrl !== '',
    env: (): Record<string, string> => {
      const redis = testRedisConfig();
      return { REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.keyPrefix };
    },
  },
] as const;

/** What each test of describeEachJobMode() gets: fresh for every test. */
export interface JobModeApp {
  t: TestApp;
  generator: FakeImageGenerator;
  /** The `Authorization` header of the user alice. */
  alice: string;
}

/**
 * Declares the suite once per job mode, titled `${title} ${mode name}`. Before each test the app is
 * built on a FakeImageGenerator with the mode's environment and the user alice is added; after it
 * the app is closed. Read the fields of `s` inside hooks and tests only.
 */
export function describeEachJobMode(title: string, suite: (s: JobModeApp) => void): void {
  for (const mode of JOB_MODES) {
    describe.skipIf(!mode.available)(`${title} ${mode.name}`, () => {
      const s = {} as JobModeApp;
      beforeEach(async () => {
        s.generator = new FakeImageGenerator();
        s.t = await createTestApp({ generator: s.generator, env: mode.env() });
        s.alice = await s.t.addUser('alice');
      });
      afterEach(() => s.t.close());
      suite(s);
    });
  }
}

/**
 * Polls GET /jobs/{id} as `authorization` until the job has finished (succeeded or failed) and returns
 * its last body; fails the test after 20 s.
 */
export async function finishedJob(t: TestApp, authorization: string, id: string): Promise<JobBody> {
  let body: JobBody | undefined;
  await vi.waitFor(
    async () => {
      body = (await t.app.inject({ url: `/jobs/${id}`, headers: { authorization } })).json<JobBody>();
      expect(['succeeded', 'failed']).toContain(body.status);
    },
    { timeout: 20_000, interval: 50 },
  );
  return body!;
}
