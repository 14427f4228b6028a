import { createRequire } from 'node:module';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { describeDatabase, describeImageStore, type Config } from '../core/config.js';
import { buildApp } from '../web/app.js';
import { ensureInitialAdmin, modelPolicyOf, openContext } from './compose.js';

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
    contentDelivery: { mode: config.storage.contentDelivery, presignExpiresSeconds: config.storage.presignExpiresSeconds },
    publicBaseUrl: config.publicBaseUrl,
    imageModels: modelPolicyOf(config).allowedModels,
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
