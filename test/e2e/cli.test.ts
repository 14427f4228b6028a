import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basicHeader } from '../support/test-app.js';
import { runCli, startServer, type ServerProcess } from '../support/cli-process.js';

// A child process that loads the TypeScript sources: generous, because CI machines are busy.
const PROCESS_TEST_TIMEOUT_MS = 60_000;

let dataDir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-cli-'));
});
afterEach(async () => {
  await server?.kill();
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

describe('pixyproxy serve configuration', () => {
  it('exits non-zero naming the variable when a value is bad, without a stack trace', async () => {
    const result = await runCli(['serve'], { DATA_DIR: dataDir, PORT: 'abc' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('abc');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, PROCESS_TEST_TIMEOUT_MS);
});

describe('first start', () => {
  it('writes a generated admin password to DATA_DIR/initial-admin-password (0600), logs the path and never the password', async () => {
    server = await startServer({ DATA_DIR: dataDir });
    const base = server.address;
    const file = join(dataDir, 'initial-admin-password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const password = (await readFile(file, 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(server.stdout + server.stderr).not.toContain(password);
    expect(server.logs.some((r) => r['file'] === file)).toBe(true);

    // The file holds the real password: with it the body is judged (400); without it, 401.
    const post = (password: string) =>
      fetch(`${base}/image`, {
        method: 'POST',
        headers: { authorization: basicHeader('admin', password), 'content-type': 'application/json' },
        body: '{}',
      });
    expect((await post(password)).status).toBe(400);
    expect((await post(`${password}x`)).status).toBe(401);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(server.stdout + server.stderr).not.toContain(password);
  }, PROCESS_TEST_TIMEOUT_MS);
});

describe('pixyproxy user add --password-stdin', () => {
  it('refuses a password that is not valid UTF-8 (exit 1) and adds no user', async () => {
    const invalid = Buffer.concat([Buffer.from('correct horse '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
    const added = await runCli(['user', 'add', 'bob', '--password-stdin'], { DATA_DIR: dataDir }, invalid);
    expect(added.code).toBe(1);
    expect(added.stderr).toContain('not valid UTF-8');
    const listed = await runCli(['user', 'list'], { DATA_DIR: dataDir });
    expect(listed.stdout).not.toContain('bob');
  }, PROCESS_TEST_TIMEOUT_MS);
});
