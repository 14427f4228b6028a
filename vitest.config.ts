import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway MySQL server for the whole run (or TEST_MYSQL_URL); each test file makes its own database.
    // Likewise one throwaway redis-server (or TEST_REDIS_URL; each test uses its own key prefix) and
    // one S3 server (Swift with s3api; each test file makes its own bucket).
    globalSetup: ['test/support/mysql-global-setup.ts', 'test/support/redis-global-setup.ts', 'test/support/object-store-global-setup.ts'],
    // Each file gets a fresh module graph; files run in parallel on the two cores.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // CI lists every test by name, so its log shows the suites ran on both engines.
    reporters: process.env['CI'] === 'true' ? ['verbose'] : ['default'],
  },
});
