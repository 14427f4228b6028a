import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader } from '../support/test-app.js';
import { startServer, type ServerProcess } from '../support/server-process.js';

const PASSWORD = 'shutdown test password';
let dir: string;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-shutdown-'));
});
afterAll(async () => {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function env(): Record<string, string> {
  // A big local image takes about a second to generate: the create is still in flight at SIGTERM.
  return { DATA_DIR: dir, PIXYPROXY_ADMIN_PASSWORD: PASSWORD, IMAGE_SIZE: '1536x1536', SHUTDOWN_TIMEOUT_MS: '30000' };
}

/** One POST on its own connection, so closing the listener cannot affect it. */
function create(address: string, prompt: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${address}/image`, {
      method: 'POST',
      agent: false,
      headers: { authorization: basicHeader('admin', PASSWORD), 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ prompt }));
  });
}

function connectionRefused(address: string): Promise<boolean> {
  const { hostname, port } = new URL(address);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => (socket.destroy(), resolve(false)));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('SIGTERM', () => {
  it('finishes in-flight creates, refuses new connections, exits 0, and the images survive a restart', async () => {
    const server = await startServer(env());
    servers.push(server);
    const prompts = ['slow one', 'slow two', 'slow three'];
    const responses = prompts.map((prompt) => create(server.address, prompt));
    await Promise.all(
      prompts.map((_, i) => server.waitForLog((l) => l['msg'] === 'request started' && l['method'] === 'POST' && server.logs.filter((x) => x['msg'] === 'request started' && x['method'] === 'POST').length > i)),
    );
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
    expect(await server.exited).toBe(0);

    const restarted = await startServer(env());
    servers.push(restarted);
    for (const { body } of answered) {
      const { guid } = JSON.parse(body) as { guid: string };
      const content = await fetch(`${restarted.address}/image/${guid}/content`);
      expect(content.status).toBe(200);
      const bytes = Buffer.from(await content.arrayBuffer());
      expect(`"${createHash('sha256').update(bytes).digest('hex')}"`).toBe(content.headers.get('etag'));
    }
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }, 120_000);
});
