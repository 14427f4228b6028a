import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../support/cli-bundle.js';
import { makeImageInput } from '../support/factories.js';
import { basicHeader, createTestApp } from '../support/test-app.js';

const CAROL_PASSWORD = 'carol has the keys';

let dataDir: string;

/** Runs the real CLI in a clean environment (no inherited database or admin settings). */
function pixyproxy(args: string[], stdin = ''): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = execFile(
      process.execPath,
      [CLI_BUNDLE, ...args],
      { cwd: dataDir, env: { PATH: process.env['PATH'] ?? '', HOME: dataDir, DATA_DIR: dataDir }, timeout: 60_000 },
      (error, stdout, stderr) => (error ? fail(Object.assign(error, { stderr })) : done({ stdout, stderr })),
    );
    child.stdin?.end(stdin);
  });
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-cli-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

// One test, because each CLI start costs a second or more of module loading on a busy machine.
describe('pixyproxy user add --admin', () => {
  it("adds an admin that user list marks as admin and that may delete someone else's image", async () => {
    const added = await pixyproxy(['user', 'add', 'carol', '--admin', '--password-stdin'], `${CAROL_PASSWORD}\n`);
    expect(added.stdout).toContain('added user carol (admin)');
    const listed = await pixyproxy(['user', 'list']);
    expect(listed.stdout.trim().split('\n').map((line) => line.split('\t').slice(0, 2))).toEqual([['carol', 'admin']]);

    const t = await createTestApp({ env: { DATA_DIR: dataDir } });
    try {
      const alice = await t.addUser('alice', 'alice password 1');
      const created = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: alice }, payload: makeImageInput() });
      const { guid } = created.json() as { guid: string };
      const carol = basicHeader('carol', CAROL_PASSWORD);
      const response = await t.app.inject({ method: 'DELETE', url: `/image/${guid}`, headers: { authorization: carol } });
      expect(response.statusCode).toBe(204);
      expect((await t.app.inject({ url: `/image/${guid}` })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  }, 90_000);
});
