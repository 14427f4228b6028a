import { beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/core/errors.js';
import { SqlImageRepository } from '../../src/data/image-repository.js';
import { migrate } from '../../src/data/migrator.js';
import { MIGRATIONS } from '../../src/data/migrations/index.js';
import { SqlUserRepository } from '../../src/data/user-repository.js';
import { describeEachEngine, useMigratedDatabase } from '../support/engines.js';
import { makeNewImage } from '../support/factories.js';
import { accessServiceOver, CLIENT } from '../support/access-service.js';

/**
 * Pairs of distinct strings that some collation would call equal. Every comparison the repositories
 * make (username lookups, author and tag filters, guid lookups, filename lookups) must tell each
 * pair apart, and tell each value equal to itself, on every engine: exactly what JavaScript's ===
 * says.
 */
const EDGE_CASES: ReadonlyArray<readonly [label: string, stored: string, asked: string]> = [
  ['a trailing space', 'bob', 'bob '],
  ['two trailing spaces', 'bob', 'bob  '],
  ['a trailing tab', 'bob', 'bob\t'],
  ['a leading space', 'bob', ' bob'],
  ['letter case', 'bob', 'Bob'],
  ['an accent', 'cafe', 'café'],
  ['NFC and NFD', 'caf\u00e9', 'cafe\u0301'],
  ['sharp s and ss', 'straße', 'strasse'],
  ['full-width letters', 'abc', 'ａｂｃ'],
  ['a ligature', 'ﬁle', 'file'],
  ['dotless i', 'ı', 'i'],
  ['a no-break space', 'a b', 'a\u00a0b'],
  ['a zero-width space', 'ab', 'a\u200bb'],
  ['an emoji variation selector', '\u2764', '\u2764\ufe0f'],
];

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let users: SqlUserRepository;
  let images: SqlImageRepository;

  beforeAll(() => {
    users = new SqlUserRepository(e.db);
    images = new SqlImageRepository(e.db);
  });

  const newUser = (username: string) =>
    users.insert({ username, passwordHash: 'scrypt$test', isAdmin: false, createdAt: '2026-01-01T00:00:00.000Z' });

  describe.each(EDGE_CASES)('%s (%j vs %j)', (_label, stored, asked) => {
    it('finds a user only by the exact username', async () => {
      await newUser(stored);
      expect((await users.findByUsername(stored))?.user.username).toBe(stored);
      expect(await users.findByUsername(asked)).toBeUndefined();
    });

    it('keeps both as distinct usernames', async () => {
      await newUser(stored);
      await newUser(asked);
      expect((await users.list()).map((u) => u.username).sort()).toEqual([stored, asked].sort());
    });

    it('filters images by the exact author', async () => {
      const image = await images.insert(makeNewImage({ author: stored }));
      expect((await images.listPage({ limit: 10, author: stored })).images.map((i) => i.guid)).toEqual([image.guid]);
      expect((await images.listPage({ limit: 10, author: asked })).images).toEqual([]);
    });

    it('filters images by the exact tag, with and without an author', async () => {
      const image = await images.insert(makeNewImage({ author: 'alice', tags: [stored] }));
      expect((await images.listPage({ limit: 10, tag: stored })).images.map((i) => i.guid)).toEqual([image.guid]);
      expect((await images.listPage({ limit: 10, tag: asked })).images).toEqual([]);
      expect((await images.listPage({ limit: 10, tag: asked, author: 'alice' })).images).toEqual([]);
    });

    it('keeps both as distinct tags of one image', async () => {
      const image = await images.insert(makeNewImage({ tags: [stored, asked] }));
      expect((await images.listPage({ limit: 10, tag: asked })).images.map((i) => i.guid)).toEqual([image.guid]);
      expect((await images.findByGuid(image.guid))?.tags).toEqual([stored, asked]);
    });
  });

  it('finds an image only by its exact guid', async () => {
    const image = await images.insert(makeNewImage());
    expect((await images.findByGuid(image.guid))?.guid).toBe(image.guid);
    for (const other of [`${image.guid} `, image.guid.toUpperCase()]) {
      expect(await images.findByGuid(other), JSON.stringify(other)).toBeUndefined();
      expect(await images.deleteByGuid(other)).toBe(false);
      expect(await images.updateTags(other, ['x'], '2026-01-02T00:00:00.000Z')).toBeUndefined();
    }
  });

  it('does not log in "bob " with bob\'s password', async () => {
    const access = accessServiceOver(users, { credentialCacheTtlMs: 0 });
    await access.addUser('bob', 'correct horse battery');
    expect((await access.authenticate(CLIENT, { scheme: 'basic', username: 'bob', password: 'correct horse battery' })).username).toBe('bob');
    for (const username of ['bob ', 'Bob', 'bob\t']) {
      await expect(access.authenticate(CLIENT, { scheme: 'basic', username, password: 'correct horse battery' }), JSON.stringify(username)).rejects.toBeInstanceOf(AuthenticationError);
    }
  });

  it('orders usernames by code point on every engine', async () => {
    const names = ['b', 'B', 'a ', 'a', 'é', 'z', 'ａ', 'ß', '😀', '\u00a0'];
    for (const name of names) await newUser(name);
    const byCodePoint = [...names].sort((x, y) => {
      const a = [...x].map((c) => c.codePointAt(0)!);
      const b = [...y].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    });
    expect((await users.list()).map((u) => u.username)).toEqual(byCodePoint);
  });
});

describeEachEngine((engine) => {
  it('migrates a database created before exact matching, keeping its rows, to exact matching', async () => {
    const e = await engine.open();
    try {
      await migrate(e.db, MIGRATIONS.filter((m) => m.version === 1));
      const users = new SqlUserRepository(e.db);
      const images = new SqlImageRepository(e.db);
      await users.insert({ username: 'bob', passwordHash: 'scrypt$test', isAdmin: false, createdAt: '2026-01-01T00:00:00.000Z' });
      expect((await migrate(e.db)).applied).toContain(2);
      // Rows written by the schema of later migrations too, on the converted tables.
      const image = await images.insert(makeNewImage({ author: 'bob', tags: ['sea'] }));
      expect((await users.findByUsername('bob'))?.user.username).toBe('bob');
      expect(await users.findByUsername('bob ')).toBeUndefined();
      expect((await images.listPage({ limit: 10, author: 'bob', tag: 'sea' })).images.map((i) => i.guid)).toEqual([image.guid]);
      expect((await images.listPage({ limit: 10, author: 'bob ' })).images).toEqual([]);
    } finally {
      await e.close();
    }
  });
});
