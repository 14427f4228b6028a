import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDetail } from '../../src/core/models/image.js';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  const auth = await t.addUser();
  for (let i = 0; i < 5; i++) await t.createImage(auth, { prompt: `a red fox in fresh snow, take ${i}`, tags: i % 2 ? ['odd'] : ['even'] });
  await t.createImage(auth, { prompt: 'a lighthouse at dusk', tags: ['even'] });
});
afterAll(() => t.close());

const list = (query: string) => t.app.inject({ url: `/image?${query}` });

describe('GET /image?q=', () => {
  it('answers only the images whose prompt has every word', async () => {
    const response = await list('q=fox%20snow');
    expect(response.statusCode).toBe(200);
    const prompts = response.json<ImageDetail[]>().map((image) => image.prompt);
    expect(prompts).toHaveLength(5);
    expect(prompts.every((p) => p.includes('fox'))).toBe(true);
  });

  it('keeps q (and the other filters) in the Link to the next page', async () => {
    const first = await list('q=fox&tag=even&limit=2');
    const link = String(first.headers['link']);
    expect(link).toMatch(/rel="next"/);
    const next = new URL(/<([^>]+)>/.exec(link)![1]!, 'http://x');
    expect(next.searchParams.get('q')).toBe('fox');
    expect(next.searchParams.get('tag')).toBe('even');
    const second = await t.app.inject({ url: `${next.pathname}${next.search}` });
    const all = [...first.json<ImageDetail[]>(), ...second.json<ImageDetail[]>()];
    expect(all.map((image) => image.prompt)).toEqual(['a red fox in fresh snow, take 4', 'a red fox in fresh snow, take 2', 'a red fox in fresh snow, take 0']);
  });

  it.each([['empty', 'q='], ['only punctuation', 'q=%22!%3F...%22'], ['only spaces', 'q=%20%20']])(
    'answers 400 problem+json pointing at q when q is %s',
    async (_name, query) => {
      const body = expectProblem(await list(query), 400, 'DataValidationError');
      expect(errorPaths(body)).toEqual(['/querystring/q']);
    },
  );

  it('answers 400 for a q longer than 256 characters', async () => {
    const body = expectProblem(await list(`q=${'a'.repeat(257)}`), 400, 'DataValidationError');
    expect(errorPaths(body)).toEqual(['/querystring/q']);
  });
});
