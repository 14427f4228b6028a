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
    // Two files at a time even on two cores (vitest's default there is one): most of a
    // process-level test is waiting on children, servers and sockets.
    pool: 'forks',
    // Files share each worker's module graph instead of importing everything again per file: half
    // the workers' CPU in a full run went to loading modules (measured: 185 -> 95 s of worker CPU,
    // 3:59 -> 2:57 wall). So a file must leave no global state changed (it restores process.env,
    // TZ and the like) and cannot replace modules with vi.mock: it passes a spy in instead
    // (test/architecture.test.ts refuses vi.mock).
    isolate: false,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // CI lists every test by name, so its log shows the suites ran on both engines.
    reporters: process.env['CI'] === 'true' ? ['verbose'] : ['default'],
  },
});
