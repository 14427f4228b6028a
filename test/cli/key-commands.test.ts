import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-process.js';

let dataDir: string;
const env = () => ({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-keys-cli-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function rowsOf(stdout: string): string[][] {
  return stdout.trim().split('\n').map((line) => line.split('\t'));
}

// One walk through the commands, because each CLI start costs seconds of TypeScript transpiling.
describe('pixyproxy key', () => {
  it('creates a key whose token is printed once, lists it without the token, and revokes it', async () => {
    expect((await runCli(['user', 'add', 'dora', '--password-stdin'], env(), 'dora password 1\n')).code).toBe(0);

    const created = await runCli(['key', 'create', 'dora', '--label', 'build bot', '--expires-in', '30d'], env());
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^pxy_[0-9A-Za-z]{43}$/);
    const id = /created API key ([0-9a-f]{16}) for dora, expires \S+Z;/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();

    const listed = await runCli(['key', 'list', 'dora'], env());
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(token.slice(12));
    const [header, row] = rowsOf(listed.stdout);
    expect(header).toEqual(['id', 'prefix', 'label', 'created', 'expires', 'last_used', 'state']);
    expect(row).toEqual([id, token.slice(0, 12), 'build bot', expect.any(String), expect.any(String), 'never', 'active']);
    const [created_at, expires_at] = [Date.parse(row![3]!), Date.parse(row![4]!)];
    expect(expires_at - created_at).toBe(30 * 24 * 3600 * 1000);

    const revoked = await runCli(['key', 'revoke', id!], env());
    expect(revoked.stdout.trim()).toBe(`revoked API key ${id}`);
    expect(rowsOf((await runCli(['key', 'list', 'dora'], env())).stdout)[1]![6]).toBe('revoked');
  }, 120_000);

  it('fails with exit code 1 for a user that does not exist, printing no token', async () => {
    const result = await runCli(['key', 'create', 'nobody'], env());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('No user is named "nobody"');
  }, 60_000);
});
