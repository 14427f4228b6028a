import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG_SIGNATURE } from '../support/factories.js';
import { basicHeader } from '../support/test-app.js';
import { runCli, startServer, type ServerProcess } from '../support/cli-process.js';

const PASSWORD = 'bobs own long password';
// Two child processes that each load the TypeScript sources: generous, because CI machines are busy.
const PROCESS_TEST_TIMEOUT_MS = 120_000;

let dataDir: string;
let server: ServerProcess;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-e2e-'));
});
afterAll(async () => {
  await server?.kill();
  await rm(dataDir, { recursive: true, force: true });
});

function nextLink(header: string | null): string | undefined {
  return header === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(header)?.[1];
}

describe('the real CLI server over a real socket', () => {
  it('serves create, read, two-page list and download for a user added through the CLI, then exits 0 on SIGTERM', async () => {
    const env = { DATA_DIR: dataDir, IMAGE_SIZE: '64x64' };
    server = await startServer(env);
    const base = server.address;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const added = await runCli(['user', 'add', 'bob', '--password-stdin'], env, `${PASSWORD}\n`);
    expect(added.stderr).toBe('');
    expect(added).toMatchObject({ code: 0, stdout: 'added user bob\n' });

    const authorization = basicHeader('bob', PASSWORD);
    const created: Array<{ guid: string; author: string }> = [];
    for (const prompt of ['a harbour at dawn', 'a harbour at noon', 'a harbour at night']) {
      const response = await fetch(`${base}/image`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, tags: ['Harbour'] }),
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { guid: string; author: string; tags: string[] };
      expect(response.headers.get('location')).toBe(`/image/${body.guid}`);
      expect(body).toMatchObject({ author: 'bob', tags: ['harbour'] });
      created.push(body);
    }

    const read = await fetch(`${base}/image/${created[1]!.guid}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ guid: created[1]!.guid, prompt: 'a harbour at noon' });

    const first = await fetch(`${base}/image?limit=2`);
    expect(first.status).toBe(200);
    const firstPage = (await first.json()) as Array<{ guid: string }>;
    const next = nextLink(first.headers.get('link'));
    expect(firstPage).toHaveLength(2);
    expect(next).toBeDefined();
    const second = await fetch(new URL(next!, base));
    const secondPage = (await second.json()) as Array<{ guid: string }>;
    expect(secondPage).toHaveLength(1);
    expect(second.headers.get('link')).toBeNull();
    expect(new Set([...firstPage, ...secondPage].map((i) => i.guid))).toEqual(new Set(created.map((i) => i.guid)));

    const content = await fetch(`${base}/image/${created[0]!.guid}/content`);
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await content.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(Number(content.headers.get('content-length'))).toBe(bytes.length);

    const exit = await server.stop('SIGTERM');
    expect(exit, server.stdout.split('\n').slice(-5).join('\n') + server.stderr).toEqual({ code: 0, signal: null });
    expect(server.logs.some((r) => r['msg'] === 'shutting down')).toBe(true);
    expect(server.stdout + server.stderr).not.toContain(PASSWORD);
  }, PROCESS_TEST_TIMEOUT_MS);
});
