import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, ServerProcess } from '../support/cli-process.js';

// A child process that loads the TypeScript sources: generous, because CI machines are busy.
const PROCESS_TEST_TIMEOUT_MS = 90_000;
const ADMIN_PASSWORD = 'shutdown-test-admin';

let dataDir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-shutdown-'));
});
afterEach(async () => {
  await server?.kill();
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('graceful shutdown', () => {
  it('finishes a create in flight at SIGTERM, then exits 0 well before the shutdown deadline', async () => {
    server = new ServerProcess(
      cliEnv({
        DATA_DIR: dataDir,
        PORT: '0',
        // Big enough that the create is still running when the signal lands.
        IMAGE_SIZE: '1024x1024',
        LOG_LEVEL: 'info',
        PIXYPROXY_ADMIN_PASSWORD: ADMIN_PASSWORD,
        SHUTDOWN_TIMEOUT_MS: '20000',
      }),
    );
    const base = await server.listening();
    // fetch keeps the connection alive afterwards, as real clients do.
    const create = fetch(`${base}/image`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ prompt: 'a long exposure of a lighthouse' }),
    });
    await until(() => server!.logRecords().some((r) => r['msg'] === 'request started' && r['method'] === 'POST'));
    const signalledAt = Date.now();
    const exited = server.stop('SIGTERM');

    const response = await create;
    expect(response.status).toBe(201);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(server.logRecords().some((r) => String(r['msg']).includes('killed by timeout'))).toBe(false);
  }, PROCESS_TEST_TIMEOUT_MS);
});
