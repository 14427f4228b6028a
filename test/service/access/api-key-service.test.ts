import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError, DataValidationError, RecordNotFoundError } from '../../../src/core/errors.js';
import { SqlApiKeyRepository } from '../../../src/data/api-key-repository.js';
import { migrate } from '../../../src/data/migrator.js';
import { SqlUserRepository } from '../../../src/data/user-repository.js';
import { ApiKeyService } from '../../../src/service/access/api-key-service.js';
import { deleteAllRows, SQLITE, type EngineDatabase } from '../../support/engines.js';

const START = Date.parse('2026-05-01T12:00:00.000Z');
const MINUTE = 60_000;

describe('ApiKeyService', () => {
  let e: EngineDatabase;
  let clock: number;
  let service: ApiKeyService;

  const storedLastUse = async (id: string) =>
    (await e.db.get<{ last_used_at: string | null }>('SELECT last_used_at FROM api_key WHERE id = :id', { id }))?.last_used_at ?? null;

  beforeAll(async () => {
    e = await SQLITE.open();
    await migrate(e.db);
  });
  beforeEach(async () => {
    await deleteAllRows(e.db);
    const users = new SqlUserRepository(e.db);
    for (const username of ['alice', 'bob']) {
      await users.insert({ username, passwordHash: 'scrypt$x', isAdmin: false, createdAt: '2026-01-01T00:00:00.000Z' });
    }
    clock = START;
    service = new ApiKeyService(new SqlApiKeyRepository(e.db), { now: () => new Date(clock) });
  });
  afterAll(() => e.close());

  describe('create', () => {
    it('returns a pxy_ token of 43 base62 characters once and stores only its SHA-256', async () => {
      const created = await service.create('alice', { label: '  laptop  ' });
      expect(created.token).toMatch(/^pxy_[0-9A-Za-z]{43}$/);
      expect(created).toMatchObject({ label: 'laptop', prefix: created.token.slice(0, 12), expires_at: null, revoked_at: null });
      const rows = await e.db.all<Record<string, unknown>>('SELECT * FROM api_key');
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(created.token.slice(12));
      expect(rows[0]!['token_hash']).toBe(createHash('sha256').update(created.token).digest('hex'));
    });

    it('gives every key a different token and id', async () => {
      const a = await service.create('alice');
      const b = await service.create('alice');
      expect(a.token).not.toBe(b.token);
      expect(a.id).not.toBe(b.id);
      expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    });

    it('sets the expiry from expires_in', async () => {
      const created = await service.create('alice', { expires_in: '30d' });
      expect(created.expires_at).toBe(new Date(START + 30 * 24 * 60 * MINUTE).toISOString());
    });

    it.each(['0d', '30', '3651d', '1y'])('refuses expires_in %j with the field path', async (expiresIn) => {
      const error = await service.create('alice', { expires_in: expiresIn }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DataValidationError);
      expect((error as DataValidationError).errors).toEqual([expect.objectContaining({ path: '/expires_in' })]);
    });

    it('refuses a key for a user that does not exist', async () => {
      await expect(service.create('nobody')).rejects.toBeInstanceOf(RecordNotFoundError);
    });
  });

  describe('verifyToken', () => {
    it('returns the owner of a valid token', async () => {
      const { token } = await service.create('alice');
      expect(await service.verifyToken(token)).toMatchObject({ username: 'alice', is_admin: false });
    });

    it.each([
      ['an unknown token', `pxy_${'A'.repeat(43)}`],
      ['a token without the prefix', 'A'.repeat(47)],
      ['a truncated token', 'pxy_abc'],
      ['a password', 'correct horse battery staple'],
    ])('refuses %s', async (_name, token) => {
      await service.create('alice');
      await expect(service.verifyToken(token)).rejects.toThrow(new AuthenticationError('The API key is not valid'));
    });

    it('refuses a token once its key has expired', async () => {
      const { token } = await service.create('alice', { expires_in: '1h' });
      clock = START + 60 * MINUTE - 1;
      await expect(service.verifyToken(token)).resolves.toMatchObject({ username: 'alice' });
      clock = START + 60 * MINUTE;
      await expect(service.verifyToken(token)).rejects.toThrow(new AuthenticationError('The API key has expired'));
    });

    it('refuses a token once its key is revoked, and keeps the first revocation time', async () => {
      const { token, id } = await service.create('alice');
      await service.verifyToken(token);
      expect((await service.revoke(id)).revoked_at).toBe(new Date(START).toISOString());
      clock += MINUTE;
      expect((await service.revoke(id)).revoked_at).toBe(new Date(START).toISOString());
      await expect(service.verifyToken(token)).rejects.toThrow(new AuthenticationError('The API key has been revoked'));
    });
  });

  describe('revoke with an owner', () => {
    it("refuses another user's key as not found and leaves it working", async () => {
      const { token, id } = await service.create('alice');
      await expect(service.revoke(id, { owner: 'bob' })).rejects.toBeInstanceOf(RecordNotFoundError);
      await expect(service.verifyToken(token)).resolves.toMatchObject({ username: 'alice' });
    });

    it('refuses an unknown id as not found', async () => {
      await expect(service.revoke('0123456789abcdef', { owner: 'alice' })).rejects.toBeInstanceOf(RecordNotFoundError);
    });
  });

  describe('last used', () => {
    it('writes the first use at once and later uses at most once a minute, while lists show the newest', async () => {
      const { token, id } = await service.create('alice');
      expect((await service.list('alice'))[0]!.last_used_at).toBeNull();

      await service.verifyToken(token);
      await service.flush();
      expect(await storedLastUse(id)).toBe('2026-05-01 12:00:00.000');

      clock = START + 30_000;
      await service.verifyToken(token);
      clock = START + 59_000;
      await service.verifyToken(token);
      expect(await storedLastUse(id)).toBe('2026-05-01 12:00:00.000');
      expect((await service.list('alice'))[0]!.last_used_at).toBe('2026-05-01T12:00:59.000Z');

      clock = START + MINUTE;
      await service.verifyToken(token);
      await service.flush();
      expect(await storedLastUse(id)).toBe('2026-05-01 12:01:00.000');
    });

    it('writes a pending use on flush', async () => {
      const { token, id } = await service.create('alice');
      await service.verifyToken(token);
      clock = START + 10_000;
      await service.verifyToken(token);
      await service.flush();
      expect(await storedLastUse(id)).toBe('2026-05-01 12:00:10.000');
    });
  });

  it("lists only the user's own keys, newest first", async () => {
    const first = await service.create('alice', { label: 'first' });
    clock += 1;
    const second = await service.create('alice', { label: 'second' });
    await service.create('bob');
    expect((await service.list('alice')).map((key) => key.id)).toEqual([second.id, first.id]);
    expect(await service.list('alice')).not.toContainEqual(expect.objectContaining({ token: expect.anything() }));
  });
});
