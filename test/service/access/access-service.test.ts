import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, ConstraintViolationError, DataValidationError, RecordNotFoundError } from '../../../src/core/errors.js';
import { verifyPassword as scryptVerify } from '../../../src/service/access/password-hasher.js';
import type { AccessService } from '../../../src/service/access/index.js';
import { accessServiceOver, CLIENT } from '../../support/access-service.js';
import { InMemoryUserRepository } from '../../support/fakes.js';

// The real scrypt check, wrapped so tests can see which hash each check ran against.
const verifyPassword = vi.fn(scryptVerify);

const PASSWORD = 'correct horse battery';

let users: InMemoryUserRepository;
let service: AccessService;

beforeEach(async () => {
  verifyPassword.mockClear();
  users = new InMemoryUserRepository();
  service = accessServiceOver(users, { credentialCacheTtlMs: 60_000, verifyPassword });
  await service.addUser('alice', PASSWORD);
  users.lookups = 0;
});

describe('AccessService.authenticate', () => {
  it('returns the user for the right password', async () => {
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })).resolves.toMatchObject({ username: 'alice', is_admin: false });
  });

  it('throws AuthenticationError for a wrong password', async () => {
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'wrong password!' })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('throws the same AuthenticationError for an unknown user as for a wrong password', async () => {
    const unknown = await service.authenticate(CLIENT, { scheme: 'basic', username: 'mallory', password: PASSWORD }).catch((e: unknown) => e);
    const wrong = await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'wrong password!' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AuthenticationError);
    expect((unknown as Error).message).toBe((wrong as Error).message);
  });

  it('runs one scrypt verification for an unknown user, as for a wrong password', async () => {
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'wrong password!' }).catch(() => undefined);
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'mallory', password: 'wrong password!' }).catch(() => undefined);
    expect(users.lookups).toBe(2);
    expect(verifyPassword).toHaveBeenCalledTimes(2);
    const [[, aliceHash], [, decoyHash]] = verifyPassword.mock.calls as [[string, string], [string, string]];
    // The decoy carries the same scrypt parameters as a real hash, so it costs the same.
    const params = (hash: string) => hash.split('$').slice(0, 4).join('$');
    expect(decoyHash).not.toBe(aliceHash);
    expect(params(decoyHash)).toBe(params(aliceHash));
  });

  it('answers repeated correct credentials from the cache, without another lookup or scrypt', async () => {
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    expect(users.lookups).toBe(1);
    expect(verifyPassword).toHaveBeenCalledTimes(1);
  });

  it('never caches a failure: a wrong password is checked every time', async () => {
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'wrong password!' }).catch(() => undefined);
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'wrong password!' }).catch(() => undefined);
    expect(verifyPassword).toHaveBeenCalledTimes(2);
  });

  it('re-verifies every time when the cache is disabled', async () => {
    const uncached = accessServiceOver(users, { credentialCacheTtlMs: 0, verifyPassword });
    await uncached.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    await uncached.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    expect(verifyPassword).toHaveBeenCalledTimes(2);
  });
});

describe('AccessService.setPassword', () => {
  it('makes the old password stop working at once, even while it is cached', async () => {
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    await service.setPassword('alice', 'a brand new secret');
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })).rejects.toBeInstanceOf(AuthenticationError);
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: 'a brand new secret' })).resolves.toMatchObject({ username: 'alice' });
  });

  it('does not let a verification that read the old hash before the change cache the old password', async () => {
    let finishRead!: () => void;
    users.delayLookupsUntil = new Promise((resolve) => (finishRead = resolve));
    const inFlight = service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    users.delayLookupsUntil = undefined;
    await service.setPassword('alice', 'a brand new secret');
    finishRead();
    await inFlight.catch(() => undefined);
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('throws RecordNotFoundError for an unknown user', async () => {
    await expect(service.setPassword('mallory', 'a brand new secret')).rejects.toBeInstanceOf(RecordNotFoundError);
  });
});

describe('AccessService.removeUser', () => {
  it('makes cached credentials of a removed user stop working', async () => {
    await service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD });
    await service.removeUser('alice');
    await expect(service.authenticate(CLIENT, { scheme: 'basic', username: 'alice', password: PASSWORD })).rejects.toBeInstanceOf(AuthenticationError);
  });
});

describe('AccessService.addUser', () => {
  it('stores a salted scrypt hash, never the password', async () => {
    await service.addUser('bob', PASSWORD);
    const stored = users.rows.get('bob')!.passwordHash;
    expect(stored).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toBe(users.rows.get('alice')!.passwordHash);
  });

  it.each([
    ['a username with a space', 'bad name', PASSWORD, '/username'],
    ['a password under 8 characters', 'bob', 'short', '/password'],
    ['a password with a lone surrogate', 'bob', 'correct \ud800 horse', '/password'],
  ])('rejects %s with DataValidationError', async (_case, username, password, path) => {
    const error = await service.addUser(username, password).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).errors).toEqual([expect.objectContaining({ path })]);
  });

  it('surfaces a taken username as ConstraintViolationError', async () => {
    await expect(service.addUser('alice', PASSWORD)).rejects.toBeInstanceOf(ConstraintViolationError);
  });
});

describe('AccessService.ensureInitialAdmin', () => {
  it('creates an admin with a generated password on an empty user table, and only once', async () => {
    const empty = new InMemoryUserRepository();
    const fresh = accessServiceOver(empty);
    const first = await fresh.ensureInitialAdmin(undefined);
    expect(first.created).toBe(true);
    expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    await expect(fresh.authenticate(CLIENT, { scheme: 'basic', username: 'admin', password: first.generatedPassword! })).resolves.toMatchObject({ username: 'admin', is_admin: true });
    expect(await fresh.ensureInitialAdmin(undefined)).toEqual({ created: false });
    expect(await empty.count()).toBe(1);
  });

  it('uses the configured password and reports none back', async () => {
    const fresh = accessServiceOver(new InMemoryUserRepository());
    expect(await fresh.ensureInitialAdmin('configured admin secret')).toEqual({ created: true });
    await expect(fresh.authenticate(CLIENT, { scheme: 'basic', username: 'admin', password: 'configured admin secret' })).resolves.toMatchObject({ is_admin: true });
  });

  it('lets one of several instances starting at once create admin, and the others carry on', async () => {
    const shared = new InMemoryUserRepository();
    // Every instance counts no users before any of them inserts.
    const results = await Promise.all([1, 2, 3].map(() => accessServiceOver(shared).ensureInitialAdmin('configured admin secret')));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await shared.count()).toBe(1);
  });

  it('creates nothing when any user exists', async () => {
    expect(await service.ensureInitialAdmin(undefined)).toEqual({ created: false });
    expect((await service.listUsers()).map((u) => u.username)).toEqual(['alice']);
  });
});
