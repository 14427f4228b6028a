import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeImageInput } from '../support/factories.js';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';

const WWW_AUTHENTICATE = 'Basic realm="pixyproxy", charset="UTF-8", Bearer realm="pixyproxy"';

let t: TestApp;
let auth: string;

beforeEach(async () => {
  t = await createTestApp();
  auth = await t.addUser('alice', 'correct horse battery');
});
afterEach(() => t.close());

function post(payload: unknown, headers: Record<string, string> = { authorization: auth }) {
  return t.app.inject({ method: 'POST', url: '/image', headers, payload: payload as object });
}

/** POST /image with a raw body sent as exactly this content type. */
function postRaw(contentType: string, payload: string) {
  return t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth, 'content-type': contentType }, payload });
}

async function imageCount(): Promise<number> {
  return (await t.app.inject({ url: '/image?limit=200' })).json<unknown[]>().length;
}

describe('POST /image 201', () => {
  it('creates the image, answers its detail with Location, and the caller as author', async () => {
    const response = await post({ prompt: '  a red fox in snow ', tags: ['Fox', ' winter', 'fox'] });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(response.headers['location']).toBe(`/image/${body.guid}`);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(body).toMatchObject({
      prompt: 'a red fox in snow',
      tags: ['fox', 'winter'],
      author: 'alice',
      filename: `${body.guid}.png`,
      content_type: 'image/png',
      model: 'local',
      size: '64x64',
    });
    expect(body.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(body.updated_at).toBe(body.created_at);
    expect(body).not.toHaveProperty('id');
    expect(body).not.toHaveProperty('sha256');
    const read = await t.app.inject({ url: response.headers['location'] as string });
    expect(read.json()).toEqual(body);
  });

  it('records whoever authenticated as the author', async () => {
    const bob = await t.addUser('bob', 'another fine password');
    const response = await post(makeImageInput(), { authorization: bob });
    expect(response.json().author).toBe('bob');
  });

  it('accepts a password containing colons and non-ASCII characters, sent as UTF-8', async () => {
    const password = 'pä:ss:wörd ✓ 日本';
    await t.addUser('carol', password);
    const response = await post(makeImageInput(), { authorization: basicHeader('carol', password) });
    expect(response.statusCode).toBe(201);
    expect(response.json().author).toBe('carol');
  });

  it('keeps every one of 20 concurrent creates, each with its own guid and bytes', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(makeImageInput())));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    const guids = new Set(responses.map((r) => r.json().guid as string));
    expect(guids.size).toBe(20);
    const listed = (await t.app.inject({ url: '/image?limit=200' })).json<{ guid: string }[]>().map((i) => i.guid);
    expect(new Set(listed)).toEqual(guids);
    const files = await readdir(t.context.config.imageDir);
    expect(files.sort()).toEqual([...guids].map((g) => `${g}.png`).sort());
  });

  it('accepts the limits: a 4000-character prompt and 20 tags of 64 characters', async () => {
    const tags = Array.from({ length: 20 }, (_, i) => `${i}`.padStart(64, 't'));
    const response = await post({ prompt: 'p'.repeat(4000), tags });
    expect(response.statusCode).toBe(201);
    expect(response.json().tags).toHaveLength(20);
  });
});

describe('POST /image 400', () => {
  it.each([
    ['a blank prompt', { prompt: '   ' }, '/body/prompt'],
    ['an empty prompt', { prompt: '' }, '/body/prompt'],
    ['a missing prompt', { tags: ['x'] }, '/body/prompt'],
    ['a prompt over 4000 characters', { prompt: 'p'.repeat(4001) }, '/body/prompt'],
    ['a number as prompt (never coerced)', { prompt: 42 }, '/body/prompt'],
    ['21 tags', { prompt: 'p', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, '/body/tags'],
    ['a 65-character tag', { prompt: 'p', tags: ['t'.repeat(65)] }, '/body/tags/0'],
    ['a control character in a tag', { prompt: 'p', tags: ['ok', 'line\nbreak'] }, '/body/tags/1'],
    ['a tag that is only a control character', { prompt: 'p', tags: ['\u0007'] }, '/body/tags/0'],
    ['a blank tag', { prompt: 'p', tags: ['ok', '  '] }, '/body/tags/1'],
    ['a control character inside a tag', { prompt: 'p', tags: ['bad\u0007tag'] }, '/body/tags/0'],
    ['tags that are not an array', { prompt: 'p', tags: 'sea' }, '/body/tags'],
    ['an unknown property', { prompt: 'p', style: 'oil' }, '/body/style'],
  ])('rejects %s with a DataValidationError pointing at the field, and stores nothing', async (_case, payload, path) => {
    const body = expectProblem(await post(payload), 400, 'DataValidationError');
    expect(errorPaths(body)).toContain(path);
    expect(body.instance).toBe('/image');
    expect(await imageCount()).toBe(0);
    // Refused before generating: no bytes were written either.
    expect(await readdir(t.context.config.imageDir).catch(() => [])).toEqual([]);
  });

  it('counts the prompt limit on the body as sent: 4000 characters plus surrounding spaces is refused', async () => {
    const body = expectProblem(await post({ prompt: ` ${'p'.repeat(4000)} ` }), 400, 'DataValidationError');
    expect(errorPaths(body)).toEqual(['/body/prompt']);
  });

  it('rejects malformed JSON with a BadRequestError', async () => {
    expectProblem(await postRaw('application/json', '{"prompt": "unterminated'), 400, 'BadRequestError');
  });

  it('rejects an empty JSON body with a BadRequestError', async () => {
    expectProblem(await postRaw('application/json', ''), 400, 'BadRequestError');
  });

  it('rejects a JSON body that is not an object', async () => {
    expectProblem(await post(['a prompt']), 400, 'DataValidationError');
  });
});

describe('POST /image 401', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong password', { authorization: basicHeader('alice', 'not the password') }],
    ['an unknown user', { authorization: basicHeader('mallory', 'correct horse battery') }],
    ['another scheme', { authorization: 'Digest username="alice", realm="pixyproxy"' }],
    ['bad base64', { authorization: 'Basic %%%not-base64%%%' }],
    ['credentials without a colon', { authorization: `Basic ${Buffer.from('alice').toString('base64')}` }],
    ['an empty Basic header', { authorization: 'Basic ' }],
  ])('answers %s with 401 AuthenticationError and both challenges', async (_case, headers) => {
    const response = await post(makeImageInput(), headers);
    expectProblem(response, 401, 'AuthenticationError');
    expect(response.headers['www-authenticate']).toBe(WWW_AUTHENTICATE);
    expect(await imageCount()).toBe(0);
  });

  it('checks credentials before the body: bad credentials with a bad body still get 401', async () => {
    const response = await post({ prompt: '' }, { authorization: basicHeader('alice', 'nope nope nope') });
    expectProblem(response, 401, 'AuthenticationError');
  });
});

describe('POST /image 413 and 415', () => {
  it('answers a body over 64 KiB with 413 PayloadTooLargeError', async () => {
    const response = await post({ prompt: 'p'.repeat(65 * 1024) });
    expectProblem(response, 413, 'PayloadTooLargeError');
    expect(await imageCount()).toBe(0);
  });

  it.each(['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/octet-stream'])(
    'answers a %s body with 415 UnsupportedMediaTypeError and stores nothing',
    async (contentType) => {
      expectProblem(await postRaw(contentType, JSON.stringify(makeImageInput())), 415, 'UnsupportedMediaTypeError');
      expect(await imageCount()).toBe(0);
    },
  );

  it('accepts application/json with a charset parameter', async () => {
    expect((await postRaw('application/json; charset=utf-8', JSON.stringify(makeImageInput()))).statusCode).toBe(201);
  });
});

describe('POST /image/ with a trailing slash', () => {
  it('creates like POST /image', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/image/', headers: { authorization: auth }, payload: makeImageInput() });
    expect(response.statusCode).toBe(201);
    expect(response.headers['location']).toBe(`/image/${response.json().guid}`);
  });
});

describe('POST /image 503', () => {
  async function storedFiles(): Promise<string[]> {
    return readdir(t.context.config.imageDir).catch(() => []);
  }

  it('answers 503 DBConnectionError with Retry-After when the database is down at login', async () => {
    await t.context.db.close();
    const response = await post(makeImageInput());
    expectProblem(response, 503, 'DBConnectionError');
    expect(response.headers['retry-after']).toBeDefined();
    expect(await storedFiles()).toEqual([]);
  });

  it('removes the generated bytes when the row cannot be written, and answers 503', async () => {
    expect((await post(makeImageInput())).statusCode).toBe(201); // caches the credentials
    const before = await storedFiles();
    await t.context.db.close();
    const response = await post(makeImageInput());
    expectProblem(response, 503, 'DBConnectionError');
    expect(await storedFiles()).toEqual(before);
  });
});
