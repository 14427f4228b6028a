import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basicHeader } from '../support/test-app.js';
import { postImageOnOwnConnection, startServer, type ServerProcess } from '../support/cli-process.js';

const PASSWORD = 'shutdown test password';
const AUTHORIZATION = basicHeader('admin', PASSWORD);
let dir: string;
const servers: ServerProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-shutdown-'));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.kill();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer({ DATA_DIR: dir, PIXYPROXY_ADMIN_PASSWORD: PASSWORD, ...env });
  servers.push(server);
  return server;
}

function connectionRefused(address: string): Promise<boolean> {
  const { hostname, port } = new URL(address);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => (socket.destroy(), resolve(false)));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

const startedPosts = (server: ServerProcess) => server.logs.filter((l) => l['msg'] === 'request started' && l['method'] === 'POST').length;

describe('SIGTERM', () => {
  it('finishes in-flight creates, refuses new connections, exits 0, and the images survive a restart', async () => {
    // A big local image takes about a second to generate: the creates are still in flight at SIGTERM.
    const env = { IMAGE_SIZE: '1536x1536', SHUTDOWN_TIMEOUT_MS: '30000' };
    const server = await start(env);
    const prompts = ['slow one', 'slow two', 'slow three'];
    const responses = prompts.map((prompt) => postImageOnOwnConnection(server.address, AUTHORIZATION, prompt));
    await server.waitForLog(() => startedPosts(server) >= prompts.length);
    server.child.kill('SIGTERM');
    await server.waitForLog((l) => l['msg'] === 'shutting down');

    let refused = false;
    for (let attempt = 0; attempt < 50 && !refused; attempt++) {
      refused = await connectionRefused(server.address);
      if (!refused) await new Promise((r) => setTimeout(r, 20));
    }
    const completedBeforeRefusal = server.logs.filter((l) => l['msg'] === 'request completed' && l['status'] === 201).length;
    expect(refused).toBe(true);
    expect(completedBeforeRefusal, 'some creates were still in flight when new connections were refused').toBeLessThan(3);

    const answered = await Promise.all(responses);
    expect(answered.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(await server.exited).toEqual({ code: 0, signal: null });

    const restarted = await start(env);
    for (const { body } of answered) {
      const { guid } = JSON.parse(body) as { guid: string };
      const content = await fetch(`${restarted.address}/image/${guid}/content`);
      expect(content.status).toBe(200);
      const bytes = Buffer.from(await content.arrayBuffer());
      expect(`"${createHash('sha256').update(bytes).digest('hex')}"`).toBe(content.headers.get('etag'));
    }
    expect(await restarted.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('does not wait on a keep-alive client: exits 0 well before the shutdown deadline once its create is answered', async () => {
    // Big enough that the create is still running when the signal lands.
    const server = await start({ IMAGE_SIZE: '1024x1024', SHUTDOWN_TIMEOUT_MS: '20000' });
    // fetch keeps the connection alive afterwards, as real clients do.
    const create = fetch(`${server.address}/image`, {
      method: 'POST',
      headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a long exposure of a lighthouse' }),
    });
    await server.waitForLog(() => startedPosts(server) >= 1);
    const signalledAt = Date.now();
    const exited = server.stop('SIGTERM');

    const response = await create;
    expect(response.status).toBe(201);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(server.logs.some((r) => String(r['msg']).includes('killed by timeout'))).toBe(false);
  }, 90_000);
});
