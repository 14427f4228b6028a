import type { ProvidedContext } from 'vitest';
import type { TestProject } from 'vitest/node';

/**
 * What the vitest globalSetup files (mysql-, redis-, object-store-global-setup.ts) share: one server per
 * test run for a group of suites, an existing one named by an environment variable instead, and a loud
 * skip when there is none, except under CI=true, where a skipped suite would hide a failure.
 */

/**
 * Announces that a group of suites is skipped.
 * @param suites How the log names the group, e.g. `MySQL`.
 * @throws Error under CI=true, so the run fails instead of passing without the suites.
 */
export function skipSuites(suites: string, reason: string): void {
  const message = `${suites} suites SKIPPED: ${reason}`;
  if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true requires them)`);
  console.warn(`\n!!! ${message} !!!\n`);
}

/** A server started for the run. */
export interface StartedSuiteServer {
  url: string;
  /** Completes `… suites run against …` in the log, e.g. `a throwaway redis-server on 127.0.0.1:6380`. */
  description: string;
  stop(): Promise<void>;
}

export interface SuiteServerSetup {
  /** How the log names the group, e.g. `Redis`. */
  suites: string;
  /** The variable that names an existing server's URL instead, e.g. `TEST_REDIS_URL`. */
  externalUrlVariable: string;
  /** What is missing when the server cannot be started, e.g. `no redis-server binary found`. */
  missing: string;
  /** True when start() can run (the binary is installed). */
  canStart(): boolean;
  start(): Promise<StartedSuiteServer>;
}

/**
 * The server a group of suites runs against: the URL in `externalUrlVariable` when set, else a server
 * started for the run (with its teardown), else '' after skipSuites().
 * @throws Error under CI=true when there is no server (see skipSuites); whatever start() throws.
 */
async function suiteServer(setup: SuiteServerSetup): Promise<{ url: string; teardown?: () => Promise<void> }> {
  const external = process.env[setup.externalUrlVariable]?.trim();
  if (external) {
    console.info(`${setup.suites} suites run against ${setup.externalUrlVariable} (${new URL(external).host})`);
    return { url: external };
  }
  if (!setup.canStart()) {
    skipSuites(setup.suites, `${setup.missing} and ${setup.externalUrlVariable} is not set`);
    return { url: '' };
  }
  const server = await setup.start();
  console.info(`${setup.suites} suites run against ${server.description}`);
  return { url: server.url, teardown: () => server.stop() };
}

/** The keys of the provided context that hold a server URL. */
type ProvidedUrlKey = { [K in keyof ProvidedContext]: ProvidedContext[K] extends string ? K : never }[keyof ProvidedContext];

/**
 * A vitest globalSetup function: suiteServer(setup), its URL provided to the test files as `key`
 * (read with `inject(key)`; '' when the suites are skipped), its server stopped at the end of the run.
 */
export function suiteServerGlobalSetup(key: ProvidedUrlKey, setup: SuiteServerSetup): (project: TestProject) => Promise<(() => Promise<void>) | undefined> {
  return async (project) => {
    const { url, teardown } = await suiteServer(setup);
    project.provide(key, url);
    return teardown;
  };
}
