import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// What is stored is exactly what was accepted: text that UTF-8 (and so either database) cannot hold
// as sent is refused with 400 and the field's path, in every field of every endpoint that takes text.
let t: TestApp;
let auth: string;
let guid: string;

beforeAll(async () => {
  t = await createTestApp();
  auth = await t.addUser();
});
beforeEach(async () => {
  ({ guid } = await t.createImage(auth, { prompt: 'the original prompt', tags: ['kept'] }));
});
afterAll(() => t.close());

const LONE_HIGH = '\ud800';
const LONE_LOW = '\udc00';

describe('a lone surrogate in a JSON body', () => {
  it.each([
    ['POST /image prompt', 'POST', (): string => '/image', { prompt: `lone ${LONE_HIGH} surrogate` }, ['/body/prompt']],
    ['POST /image prompt ending in a high surrogate', 'POST', (): string => '/image', { prompt: `ends ${LONE_HIGH}` }, ['/body/prompt']],
    ['POST /image prompt with a low surrogate first', 'POST', (): string => '/image', { prompt: `${LONE_LOW}${LONE_HIGH}` }, ['/body/prompt']],
    ['POST /image tag', 'POST', (): string => '/image', { prompt: 'fine', tags: ['ok', `t${LONE_HIGH}`] }, ['/body/tags/1']],
    ['PATCH /image/{guid} tag', 'PATCH', (): string => `/image/${guid}`, { tags: [`${LONE_LOW}x`] }, ['/body/tags/0']],
  ] as const)('in %s answers 400 DataValidationError at the field and stores nothing', async (_label, method, path, payload, paths) => {
    const before = (await t.app.inject({ url: '/image' })).json();
    const response = await t.app.inject({ method, url: path(), headers: { authorization: auth }, payload });
    const body = expectProblem(response, 400, 'DataValidationError');
    expect(errorPaths(body)).toEqual(paths);
    expect((await t.app.inject({ url: '/image' })).json()).toEqual(before);
  });

  it('accepts a well-formed surrogate pair (an emoji) and stores it as sent', async () => {
    const detail = await t.createImage(auth, { prompt: 'a fox 🦊 at dusk', tags: ['🦊'] });
    expect(detail).toMatchObject({ prompt: 'a fox 🦊 at dusk', tags: ['🦊'] });
    const listed = (await t.app.inject({ url: `/image?tag=${encodeURIComponent('🦊')}` })).json();
    expect(listed.map((image: { guid: string }) => image.guid)).toEqual([detail.guid]);
  });
});

describe('query parameters that are not percent-encoded UTF-8', () => {
  it.each([
    ['an encoded lone surrogate in tag', '/image?tag=t%ED%A0%80', ['/querystring/tag']],
    ['a byte that is not UTF-8 in author', '/image?author=bob%FF', ['/querystring/author']],
    ['a broken escape in tag', '/image?tag=%zz', ['/querystring/tag']],
    ['a truncated escape in after', '/image?after=abc%E', ['/querystring/after']],
    ['a broken escape in a parameter name', '/image?%zz=1', ['/querystring']],
  ])('answers %s with 400 BadRequestError pointing at it', async (_label, url, paths) => {
    const body = expectProblem(await t.app.inject({ url }), 400, 'BadRequestError');
    expect(errorPaths(body)).toEqual(paths);
  });

  it('still reads a validly encoded tag, with + as a space', async () => {
    const detail = await t.createImage(auth, { prompt: 'p', tags: ['café au lait'] });
    const listed = (await t.app.inject({ url: '/image?tag=caf%C3%A9+au+lait' })).json();
    expect(listed.map((image: { guid: string }) => image.guid)).toEqual([detail.guid]);
  });
});

describe('Basic credentials that are not UTF-8', () => {
  it('answers 401 instead of reading the invalid bytes as U+FFFD', async () => {
    // A user whose password contains U+FFFD must not be reachable with any invalid byte in its place.
    await t.context.services.access.addUser('mallory', 'pass\ufffdword');
    const encoded = Buffer.concat([Buffer.from('mallory:pass'), Buffer.from([0xff]), Buffer.from('word')]).toString('base64');
    const response = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: `Basic ${encoded}` }, payload: { prompt: 'p' } });
    expectProblem(response, 401, 'AuthenticationError');
  });
});
