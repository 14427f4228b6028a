import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../../src/core/errors.js';
import { SqlUserRepository } from '../../../src/data/user-repository.js';
import type { AccessService } from '../../../src/service/access/index.js';
import { accessServiceOver, CLIENT } from '../../support/access-service.js';
import { CredentialCache } from '../../../src/service/access/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.js';

let t: TestApp;
let users: AccessService;
const PASSWORD = 'correct horse battery';

beforeEach(async () => {
  t = await createTestApp({ env: { AUTH_CACHE_TTL_MS: '600000' } });
  users = t.context.services.access;
  await t.addUser('alice', PASSWORD);
});
afterEach(() => t.close());

describe('AccessService credential cache', () => {
  it('accepts cached credentials again without a database round trip', async () => {
    await users.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    // With the database gone, only the cache can answer.
    await t.context.db.close();
    await expect(users.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })).resolves.toMatchObject({ username: 'alice' });
  });

  it('keeps other users cached when one user is evicted', async () => {
    await t.addUser('bob', PASSWORD);
    await users.authenticate(CLIENT, { scheme: 'basic', username: 'bob', password: PASSWORD });
    await users.setPassword('alice', 'a brand new password');
    await t.context.db.close();
    await expect(users.authenticate(CLIENT, { scheme: 'basic', username: 'bob', password: PASSWORD })).resolves.toMatchObject({ username: 'bob' });
  });
});

describe('AccessService concurrent verification', () => {
  it('verifies a burst of requests with the same new credentials once, and answers them all', async () => {
    const repository = new SqlUserRepository(t.context.db);
    let lookups = 0;
    const counting = Object.create(repository, {
      findByUsername: { value: (username: string) => (lookups++, repository.findByUsername(username)) },
    }) as SqlUserRepository;
    const service = accessServiceOver(counting, { credentialCacheTtlMs: 60_000 });
    const users = await Promise.all(Array.from({ length: 8 }, () => service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })));
    expect(users.map((user) => user.username)).toEqual(Array(8).fill('alice'));
    expect(lookups).toBe(1);
  });

  it('rejects every request of a burst with a wrong password, and checks the next one again', async () => {
    const service = accessServiceOver(new SqlUserRepository(t.context.db));
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'wrong password' })));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof AuthenticationError)).toBe(true);
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })).resolves.toMatchObject({ username: 'alice' });
  });
});

describe('CredentialCache', () => {
  const alice = { username: 'alice', is_admin: false, created_at: '2026-01-01T00:00:00.000Z' };

  it('forgets an entry once its TTL has passed', () => {
    let now = 1_000;
    const cache = new CredentialCache(500, 10, () => now);
    const key = CredentialCache.keyOf('alice', PASSWORD);
    cache.set(key, alice);
    now += 499;
    expect(cache.get(key)).toEqual(alice);
    now += 1;
    expect(cache.get(key)).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    const cache = new CredentialCache(60_000, 2);
    const keys = ['one', 'two', 'three'].map((password) => CredentialCache.keyOf('alice', password));
    for (const key of keys) cache.set(key, alice);
    expect(keys.map((key) => cache.get(key) !== undefined)).toEqual([false, true, true]);
  });

  it('keys by a hash that differs for another password and never contains the password', () => {
    const key = CredentialCache.keyOf('alice', PASSWORD);
    expect(key).not.toContain(PASSWORD);
    expect(CredentialCache.keyOf('alice', `${PASSWORD}!`)).not.toBe(key);
  });
});
