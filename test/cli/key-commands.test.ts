import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServer, type ServerProcess } from '../support/cli-process.js';

let dataDir: string;
let server: ServerProcess | undefined;
const env = () => ({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-keys-cli-'));
});
afterAll(async () => {
  await server?.kill();
  await rm(dataDir, { recursive: true, force: true });
});

function createImage(token: string): Promise<Response> {
  return fetch(`${server!.address}/image`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'made with a key' }),
  });
}

function rowsOf(stdout: string): string[][] {
  return stdout.trim().split('\n').map((line) => line.split('\t'));
}

// One walk through a key's life, because each CLI start costs a second or more of module loading.
describe('pixyproxy key', () => {
  it('creates a key a running server accepts, lists its use, and revokes it for that server too, never logging the token', async () => {
    expect((await runCli(['user', 'add', 'dora', '--password-stdin'], env(), 'dora password 1\n')).code).toBe(0);

    const created = await runCli(['key', 'create', 'dora', '--label', 'build bot', '--expires-in', '30d'], env());
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^pxy_[0-9A-Za-z]{43}$/);
    const id = /created API key ([0-9a-f]{16}) for dora, expires \S+Z;/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();

    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'debug', PIXYPROXY_ADMIN_PASSWORD: 'admin password 1' });
    const made = await createImage(token);
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ author: 'dora' });

    // The server writes a key's first use at once (later ones at most once a minute).
    const listed = await runCli(['key', 'list', 'dora'], env());
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(token.slice(12));
    const [header, row] = rowsOf(listed.stdout);
    expect(header).toEqual(['id', 'prefix', 'label', 'created', 'expires', 'last_used', 'state']);
    expect(row).toEqual([id, token.slice(0, 12), 'build bot', expect.any(String), expect.any(String), expect.stringMatching(/Z$/), 'active']);
    const [createdAt, expiresAt] = [Date.parse(row![3]!), Date.parse(row![4]!)];
    expect(expiresAt - createdAt).toBe(30 * 24 * 3600 * 1000);

    const revoked = await runCli(['key', 'revoke', id!], env());
    expect(revoked.stdout.trim()).toBe(`revoked API key ${id}`);
    const refused = await createImage(token);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ detail: 'The API key has been revoked' });
    expect(rowsOf((await runCli(['key', 'list', 'dora'], env())).stdout)[1]![6]).toBe('revoked');

    await server.stop();
    expect(server.logs.length).toBeGreaterThan(4);
    expect(server.stdout + server.stderr).not.toContain(token.slice(4));
  }, 180_000);

  it('fails with exit code 1 for a user that does not exist, printing no token', async () => {
    const result = await runCli(['key', 'create', 'nobody'], env());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('No user is named "nobody"');
  }, 60_000);
});
