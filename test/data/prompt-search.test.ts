import { beforeAll, expect, it } from 'vitest';
import { SqlImageRepository, type ListPageQuery } from '../../src/data/image-repository.js';
import { migrate } from '../../src/data/migrator.js';
import { promptSearch } from '../../src/data/migrations/005-prompt-search.js';
import { MIGRATIONS } from '../../src/data/migrations/index.js';
import { parsePromptSearch } from '../../src/service/images/index.js';
import { describeEachEngine, useMigratedDatabase } from '../support/engines.js';
import { makeNewImage } from '../support/factories.js';

describeEachEngine((engine) => {
  const database = useMigratedDatabase(engine);
  let images: SqlImageRepository;

  beforeAll(() => {
    images = new SqlImageRepository(database.db);
  });

  /** Inserts images with these prompts (oldest first) and returns their guids by prompt. */
  async function insert(...prompts: (string | { prompt: string; revisedPrompt?: string; tags?: string[]; author?: string })[]) {
    const guids: Record<string, string> = {};
    for (const item of prompts) {
      const spec = typeof item === 'string' ? { prompt: item } : item;
      const record = makeNewImage({ prompt: spec.prompt, revised_prompt: spec.revisedPrompt ?? null, tags: spec.tags ?? ['test'], author: spec.author ?? 'alice' });
      await images.insert(record);
      guids[spec.prompt] = record.guid;
    }
    return guids;
  }

  async function search(q: string, extra: Omit<ListPageQuery, 'limit' | 'search'> = {}): Promise<string[]> {
    const page = await images.listPage({ limit: 50, search: parsePromptSearch(q), ...extra });
    return page.images.map((image) => image.prompt);
  }

  it('requires every word, newest first', async () => {
    await insert('a red fox in fresh snow', 'a red barn at dusk', 'a fox asleep', 'red fox cubs playing');
    expect(await search('red fox')).toEqual(['red fox cubs playing', 'a red fox in fresh snow']);
  });

  it('ignores case and punctuation around words', async () => {
    await insert('A Lighthouse at Dusk', 'a harbour at noon');
    expect(await search('LIGHTHOUSE!!')).toEqual(['A Lighthouse at Dusk']);
  });

  it('ignores accents', async () => {
    await insert('un café près de la mer', 'a cafeteria');
    expect(await search('cafe')).toEqual(['un café près de la mer']);
    expect(await search('CAFÉ')).toEqual(['un café près de la mer']);
  });

  it('matches a quoted phrase only as a phrase, in order', async () => {
    await insert('fresh snow on a red fox', 'a red fox in fresh snow');
    expect(await search('"red fox in fresh snow"')).toEqual(['a red fox in fresh snow']);
    expect(await search('"fresh snow"')).toEqual(['a red fox in fresh snow', 'fresh snow on a red fox']);
    expect(await search('"snow fresh"')).toEqual([]);
  });

  it('matches short words and common words as whole words', async () => {
    await insert('a cat on a mat', 'concatenate at the station');
    expect(await search('on cat')).toEqual(['a cat on a mat']);
  });

  it('reads a word that fills the page from the newest rows, still as whole words in order', async () => {
    // Enough matches to fill a page: MySQL/MariaDB answers this from the newest rows in listing
    // order instead of its full-text index (see SEARCH_WINDOW_ROWS); the answer is the same.
    await insert('a cat on a mat', 'a cat in a hat', 'a cat asleep', 'concatenate the cat-free strings');
    const page = await images.listPage({ limit: 2, search: parsePromptSearch('cat') });
    expect(page.images.map((image) => image.prompt)).toEqual(['concatenate the cat-free strings', 'a cat asleep']);
    const rest = await images.listPage({ limit: 2, search: parsePromptSearch('cat'), after: page.nextKey! });
    expect(rest.images.map((image) => image.prompt)).toEqual(['a cat in a hat', 'a cat on a mat']);
  });

  it('searches the revised prompt too', async () => {
    await insert({ prompt: 'a boat', revisedPrompt: 'a small wooden rowing boat on a misty lake' }, 'a lake');
    expect(await search('misty')).toEqual(['a boat']);
  });

  it('combines with tag and author filters', async () => {
    await insert(
      { prompt: 'sea storm one', tags: ['sea'], author: 'bob' },
      { prompt: 'sea storm two', tags: ['sky'], author: 'bob' },
      { prompt: 'sea storm three', tags: ['sea'], author: 'carol' },
    );
    expect(await search('storm', { tag: 'sea' })).toEqual(['sea storm three', 'sea storm one']);
    expect(await search('storm', { author: 'bob' })).toEqual(['sea storm two', 'sea storm one']);
    expect(await search('storm', { tag: 'sea', author: 'bob' })).toEqual(['sea storm one']);
  });

  it('pages through the matches with the listing key like the other filters', async () => {
    const prompts = Array.from({ length: 7 }, (_, i) => `storm over the bay, take ${i}`);
    await insert(...prompts, 'calm bay');
    const seen: string[] = [];
    let after: ListPageQuery['after'];
    for (let pages = 0; pages < 10; pages++) {
      const page = await images.listPage({ limit: 3, search: parsePromptSearch('storm'), ...(after && { after }) });
      seen.push(...page.images.map((image) => image.prompt));
      if (page.nextKey === undefined) break;
      after = page.nextKey;
    }
    expect(seen).toEqual([...prompts].reverse());
  });

  it('forgets a deleted image', async () => {
    const guids = await insert('a comet over the hills');
    await images.deleteByGuid(guids['a comet over the hills']!);
    expect(await search('comet')).toEqual([]);
  });

  it('indexes the rows that existed before the search migration', async () => {
    const fresh = await engine.open();
    try {
      await migrate(fresh.db, MIGRATIONS.filter((m) => m.version < promptSearch.version));
      const repository = new SqlImageRepository(fresh.db);
      // Inserted before the migration: on MySQL without search_text, on SQLite without FTS triggers.
      await fresh.db.run(
        `INSERT INTO image (guid, prompt, filename, object_key, tags, author, content_type, byte_size, sha256, created_at, updated_at)
         VALUES (:guid, :prompt, :filename, :filename, '[]', 'alice', 'image/png', 1, :sha, :at, :at)`,
        { guid: '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41', prompt: 'an old orchard in bloom', filename: 'x.png', sha: 'a'.repeat(64), at: '2026-01-01 00:00:00.000' },
      );
      await migrate(fresh.db);
      const page = await repository.listPage({ limit: 10, search: parsePromptSearch('orchard') });
      expect(page.images.map((image) => image.prompt)).toEqual(['an old orchard in bloom']);
    } finally {
      await fresh.close();
    }
  });
});
