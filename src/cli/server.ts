import { createRequire } from 'node:module';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { describeDatabase, describeImageStore, describeRedis, type Config } from '../core/config.js';
import { ConfigurationError } from '../core/errors.js';
import { buildApp } from '../web/app.js';
import { ensureInitialAdmin, generationOptionsOf, modelPolicyOf, openContext } from './compose.js';

// Read from package.json (two levels up from both src/cli/ and dist/cli/) so the OpenAPI version cannot drift.
export const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * Runs the HTTP server until SIGTERM/SIGINT: then stops accepting, lets in-flight requests finish
 * (up to SHUTDOWN_TIMEOUT_MS), closes the database and exits 0.
 */
export async function serve(config: Config, log: Logger): Promise<void> {
  const context = await openContext(config, log);
  log.info(
    {
      database: describeDatabase(config.database),
      image_store: describeImageStore(config),
      content_delivery: config.storage.contentDelivery,
      generator: context.generator.name,
      migrations_applied: context.migration.applied,
      // Without Redis, limits and jobs live in this process: run one instance only.
      shared_state: config.redis ? describeRedis(config.redis) : 'in this process (single instance)',
      generation_worker: config.generationWorker,
    },
    'database ready',
  );
  // Bytes left by a crash between writing them and committing their row; in the background, so a
  // large image directory or bucket does not delay start-up.
  void context.sweeper
    .sweep()
    .then((report) => log.info({ ...report }, 'orphan sweep done'))
    .catch((err: unknown) => log.warn({ err }, 'orphan sweep failed; run `pixyproxy doctor` later'));
  const admin = await ensureInitialAdmin(context);
  if (admin.passwordFile) log.warn({ file: admin.passwordFile }, 'created user "admin"; its password is in this file');
  else if (admin.created) log.info('created user "admin" with PIXYPROXY_ADMIN_PASSWORD');

  const app = await buildApp(context.services, {
    logger: log,
    trustProxy: config.trustProxy,
    version: VERSION,
    createRateLimit: config.createRateLimit,
    ...(context.rateLimitStore && { rateLimitStore: context.rateLimitStore }),
    contentDelivery: { mode: config.storage.contentDelivery, presignExpiresSeconds: config.storage.presignExpiresSeconds },
    publicBaseUrl: config.publicBaseUrl,
    imageModels: modelPolicyOf(config).allowedModels,
    generationOptions: generationOptionsOf(config),
  });
  // Deliberate timeouts: slow-loris clients cannot hold sockets, idle keep-alives are reaped.
  app.server.headersTimeout = 15_000;
  app.server.requestTimeout = 5 * 60_000;
  app.server.keepAliveTimeout = 72_000;

  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an unexpected error');
    else log.info({ signal }, 'shutting down');
    // app.close() ends the sockets idle at that moment; a socket whose response was still in flight
    // would then idle on until keepAliveTimeout and hold the close past its deadline. Reap those too.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
    try {
      await app.close();
    } finally {
      clearInterval(reaper);
    }
    await context.close();
  });

  const address = await app.listen({ port: config.port, host: config.host });
  log.info({ address, docs: `${address}/docs` }, `pixyproxy listening on ${address}; API docs at ${address}/docs`);
}

/**
 * `pixyproxy worker`: runs generation jobs from the shared queue and nothing else (no HTTP), until
 * SIGTERM/SIGINT; then lets its running jobs finish (up to SHUTDOWN_TIMEOUT_MS) and exits 0.
 * @throws ConfigurationError without REDIS_URL: without Redis there is no queue to share
 */
export async function work(config: Config, log: Logger): Promise<void> {
  if (!config.redis) throw new ConfigurationError('pixyproxy worker needs REDIS_URL: without Redis there is no shared queue');
  const context = await openContext(config, log, { role: 'worker' });
  log.info(
    { database: describeDatabase(config.database), redis: describeRedis(config.redis), generator: context.generator.name, concurrency: config.generationConcurrency },
    'generation worker ready',
  );
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an unexpected error');
    else log.info({ signal }, 'shutting down');
    await context.close();
  });
}
