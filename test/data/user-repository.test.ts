import { beforeAll, expect, it } from 'vitest';
import { ConstraintViolationError } from '../../src/core/errors.js';
import { SqlUserRepository, type NewUser } from '../../src/data/user-repository.js';
import { describeEachEngine, useMigratedDatabase } from '../support/engines.js';

function makeUser(overrides: Partial<NewUser> = {}): NewUser {
  return { username: 'alice', passwordHash: 'scrypt$1024$8$1$salt$hash', isAdmin: false, createdAt: '2026-02-03T04:05:06.007Z', ...overrides };
}

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let repo: SqlUserRepository;

  beforeAll(() => {
    repo = new SqlUserRepository(e.db);
  });

  it('finds an inserted user with its hash and admin flag', async () => {
    await repo.insert(makeUser({ username: 'root.admin', isAdmin: true }));
    expect(await repo.findByUsername('root.admin')).toEqual({
      user: { username: 'root.admin', is_admin: true, created_at: '2026-02-03T04:05:06.007Z' },
      passwordHash: 'scrypt$1024$8$1$salt$hash',
    });
    expect(await repo.findByUsername('nobody')).toBeUndefined();
  });

  it('rejects a duplicate username with ConstraintViolationError', async () => {
    await repo.insert(makeUser());
    await expect(repo.insert(makeUser({ passwordHash: 'other' }))).rejects.toBeInstanceOf(ConstraintViolationError);
    expect(await repo.count()).toBe(1);
  });

  it('treats usernames that differ only in case as different users', async () => {
    // Both engines compare usernames byte for byte (utf8mb4_bin on MySQL), as SQLite does.
    await repo.insert(makeUser({ username: 'alice' }));
    await repo.insert(makeUser({ username: 'Alice' }));
    expect((await repo.list()).map((user) => user.username)).toEqual(['Alice', 'alice']);
  });

  it('lists users by name and counts them', async () => {
    for (const username of ['carol', 'alice', 'bob']) await repo.insert(makeUser({ username }));
    expect((await repo.list()).map((user) => user.username)).toEqual(['alice', 'bob', 'carol']);
    expect(await repo.count()).toBe(3);
  });

  it('changes a password and reports whether the user existed', async () => {
    await repo.insert(makeUser());
    expect(await repo.updatePassword('alice', 'new-hash', '2026-02-04T00:00:00.000Z')).toBe(true);
    expect((await repo.findByUsername('alice'))?.passwordHash).toBe('new-hash');
    expect(await repo.updatePassword('nobody', 'x', '2026-02-04T00:00:00.000Z')).toBe(false);
  });

  it('removes a user once', async () => {
    await repo.insert(makeUser());
    expect(await repo.deleteByUsername('alice')).toBe(true);
    expect(await repo.findByUsername('alice')).toBeUndefined();
    expect(await repo.deleteByUsername('alice')).toBe(false);
  });
});
