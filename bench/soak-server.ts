/**
 * The server side of `npm run soak`: the real app on a fresh data directory, in its own process,
 * with an event-loop delay histogram. The parent asks for a sample over IPC; each sample covers the
 * time since the previous one.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openContext } from '../src/cli/compose.js';
import { loadConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/service-logger.js';
import { buildApp } from '../src/web/app.js';

const config = loadConfig(process.env);
const context = await openContext(config, silentLogger);
await context.services.access.ensureInitialAdmin(config.adminPassword);
const app = await buildApp(context.services, { createRateLimit: config.createRateLimit });
const address = await app.listen({ host: '127.0.0.1', port: 0 });

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;

process.on('message', (message: { type: string }) => {
  if (message.type === 'sample') {
    const memory = process.memoryUsage();
    process.send!({
      type: 'sample',
      rssMiB: Math.round((memory.rss / 2 ** 20) * 10) / 10,
      heapUsedMiB: Math.round((memory.heapUsed / 2 ** 20) * 10) / 10,
      eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    });
    delay.reset();
  } else if (message.type === 'stop') {
    void app.close().then(() => context.close()).then(() => process.exit(0));
  }
});
process.send!({ type: 'listening', address });
