import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway MySQL server for the whole run (or TEST_MYSQL_URL); each test file makes its own database.
    // Likewise one throwaway redis-server (or TEST_REDIS_URL; each test uses its own key prefix) and
    // one S3 server (Swift with s3api; each test file makes its own bucket).
    // The process-level tests start the CLI bundled from the sources by the first setup (cli-bundle.ts).
    globalSetup: ['test/support/cli-bundle-global-setup.ts', 'test/support/mysql-global-setup.ts', 'test/support/redis-global-setup.ts', 'test/support/object-store-global-setup.ts'],
    // Each file gets a fresh module graph. Two files at a time even on two cores (vitest's default
    // there is one): most of a process-level test is waiting on children, servers and sockets.
    pool: 'forks',
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // CI lists every test by name, so its log shows the suites ran on both engines.
    reporters: process.env['CI'] === 'true' ? ['verbose'] : ['default'],
  },
});
