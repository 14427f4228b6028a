import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EndUserIds, loadOrCreateEndUserSecret } from '../../../src/service/generation/end-user-id.js';

describe('EndUserIds', () => {
  const secret = Buffer.alloc(32, 7);

  it('is the hex HMAC-SHA-256 of the author under the secret, never the name', () => {
    const id = new EndUserIds(secret).of('bob');
    expect(id).toBe(createHmac('sha256', secret).update('bob').digest('hex'));
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(id).not.toContain('bob');
  });

  it('is stable for one author and differs between authors and secrets', () => {
    const ids = new EndUserIds(secret);
    expect(ids.of('bob')).toBe(ids.of('bob'));
    expect(ids.of('bob')).not.toBe(ids.of('alice'));
    expect(new EndUserIds(Buffer.alloc(32, 8)).of('bob')).not.toBe(ids.of('bob'));
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new EndUserIds(Buffer.alloc(31))).toThrow(RangeError);
  });
});

describe('loadOrCreateEndUserSecret', () => {
  let dir: string | undefined;
  afterEach(async () => dir && rm(dir, { recursive: true, force: true }));

  it('creates a 32-byte secret in a 0600 file on first start and reads the same one after', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixyproxy-secret-'));
    const file = join(dir, 'end-user-id-secret');
    const first = await loadOrCreateEndUserSecret(undefined, file);
    expect(first).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.toString('hex'));
    expect(await loadOrCreateEndUserSecret(undefined, file)).toEqual(first);
  });

  it('uses the configured secret and writes no file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixyproxy-secret-'));
    const file = join(dir, 'end-user-id-secret');
    const configured = 'x'.repeat(40);
    expect((await loadOrCreateEndUserSecret(configured, file)).toString()).toBe(configured);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });
});
