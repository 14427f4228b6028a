import { beforeAll, beforeEach, expect, it } from 'vitest';
import { ConstraintViolationError } from '../../src/core/errors.js';
import { SqlApiKeyRepository, type NewApiKey } from '../../src/data/api-key-repository.js';
import { SqlUserRepository } from '../../src/data/user-repository.js';
import { describeEachEngine, useMigratedDatabase } from '../support/engines.js';

let sequence = 0;

function makeKey(overrides: Partial<NewApiKey> = {}): NewApiKey {
  sequence += 1;
  const n = sequence.toString(16).padStart(16, '0');
  return {
    id: n,
    username: 'alice',
    tokenHash: n.repeat(4),
    prefix: `pxy_${n.slice(-8)}`,
    label: `key ${sequence}`,
    createdAt: new Date(Date.UTC(2026, 1, 3, 4, 5, 6, sequence)).toISOString(),
    expiresAt: null,
    ...overrides,
  };
}

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let keys: SqlApiKeyRepository;
  let users: SqlUserRepository;

  beforeAll(() => {
    keys = new SqlApiKeyRepository(e.db);
    users = new SqlUserRepository(e.db);
  });
  beforeEach(async () => {
    for (const [username, isAdmin] of [['alice', false], ['root', true]] as const) {
      await users.insert({ username, passwordHash: 'scrypt$x', isAdmin, createdAt: '2026-01-01T00:00:00.000Z' });
    }
  });

  it('finds a stored key by its token hash, with its owner and every time as stored', async () => {
    const key = makeKey({ username: 'root', label: null, expiresAt: '2026-03-05T06:07:08.009Z' });
    const stored = await keys.insert(key);
    const expected = {
      id: key.id,
      label: null,
      prefix: key.prefix,
      created_at: key.createdAt,
      expires_at: '2026-03-05T06:07:08.009Z',
      revoked_at: null,
      last_used_at: null,
    };
    expect(stored).toEqual(expected);
    expect(await keys.findByTokenHash(key.tokenHash)).toEqual({
      key: expected,
      owner: { username: 'root', is_admin: true, created_at: '2026-01-01T00:00:00.000Z' },
      tokenHash: key.tokenHash,
    });
    expect(await keys.findByTokenHash('f'.repeat(64))).toBeUndefined();
  });

  it('stores nothing for a user that does not exist', async () => {
    expect(await keys.insert(makeKey({ username: 'nobody' }))).toBeUndefined();
    expect(await keys.listByUsername('nobody')).toEqual([]);
  });

  it('refuses a second key with the same token hash', async () => {
    const first = makeKey();
    await keys.insert(first);
    await expect(keys.insert(makeKey({ tokenHash: first.tokenHash }))).rejects.toBeInstanceOf(ConstraintViolationError);
  });

  it("lists one user's keys newest first, revoked ones included", async () => {
    const older = makeKey();
    const newer = makeKey();
    await keys.insert(older);
    await keys.insert(newer);
    await keys.insert(makeKey({ username: 'root' }));
    await keys.revoke(older.id, '2026-02-04T00:00:00.000Z');
    const listed = await keys.listByUsername('alice');
    expect(listed.map((k) => [k.id, k.revoked_at])).toEqual([
      [newer.id, null],
      [older.id, '2026-02-04T00:00:00.000Z'],
    ]);
  });

  it('revokes a key once and keeps the first revocation time', async () => {
    const key = makeKey();
    await keys.insert(key);
    expect(await keys.revoke(key.id, '2026-02-04T00:00:00.000Z')).toBe(true);
    expect(await keys.revoke(key.id, '2026-02-05T00:00:00.000Z')).toBe(false);
    expect((await keys.findById(key.id))?.key.revoked_at).toBe('2026-02-04T00:00:00.000Z');
    expect(await keys.revoke('0'.repeat(16), '2026-02-04T00:00:00.000Z')).toBe(false);
  });

  it('moves last_used_at forward only', async () => {
    const key = makeKey();
    await keys.insert(key);
    await keys.recordLastUsed(key.id, '2026-02-04T10:00:00.000Z');
    await keys.recordLastUsed(key.id, '2026-02-04T09:00:00.000Z');
    expect((await keys.findById(key.id))?.key.last_used_at).toBe('2026-02-04T10:00:00.000Z');
  });

  it("deletes a user's keys with the user", async () => {
    const key = makeKey();
    await keys.insert(key);
    await users.deleteByUsername('alice');
    expect(await keys.findByTokenHash(key.tokenHash)).toBeUndefined();
  });
});
