import { afterEach, describe, expect, it } from 'vitest';
import type { CreatedApiKey } from '../../src/core/models/api-key.js';
import { expectProblem } from '../support/expect-problem.js';
import { makeImageInput } from '../support/factories.js';
import { captureLogs } from '../support/log-capture.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(options: TestAppOptions = {}) {
  t = await createTestApp(options);
  const alice = await t.addUser('alice');
  const key = await t.context.services.apiKeys.create('alice', { label: 'script' });
  return { t, alice, key, bearer: `Bearer ${key.token}` };
}

function createWith(authorization: string) {
  return t!.app.inject({ method: 'POST', url: '/image', headers: { authorization }, payload: makeImageInput() });
}

describe('Authorization: Bearer on private endpoints', () => {
  it("creates an image as the key's user", async () => {
    const { bearer } = await start();
    const response = await createWith(bearer);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ author: 'alice' });
  });

  it("acts as the key's user on PATCH and DELETE: another user's image is 403", async () => {
    const { t, bearer } = await start();
    const bob = await t.addUser('bob', 'bob password 123');
    const bobs = await t.createImage(bob);
    const patch = await t.app.inject({ method: 'PATCH', url: `/image/${bobs.guid}`, headers: { authorization: bearer }, payload: { tags: ['x'] } });
    expectProblem(patch, 403, 'OperationNotAllowedError');
    const own = await createWith(bearer);
    const del = await t.app.inject({ method: 'DELETE', url: `/image/${own.json<{ guid: string }>().guid}`, headers: { authorization: bearer } });
    expect(del.statusCode).toBe(204);
  });

  it('accepts the scheme name in any letter case', async () => {
    const { key } = await start();
    expect((await createWith(`bEaReR ${key.token}`)).statusCode).toBe(201);
  });

  it.each([
    ['an unknown token', `Bearer pxy_${'Z'.repeat(43)}`, 'The API key is not valid'],
    ['a token of the wrong shape', 'Bearer not-a-pixyproxy-key', 'The API key is not valid'],
  ])('refuses %s with 401 and a Bearer challenge', async (_case, authorization, detail) => {
    await start();
    const response = await createWith(authorization);
    expect(expectProblem(response, 401, 'AuthenticationError').detail).toBe(detail);
    expect(response.headers['www-authenticate']).toMatch(/Bearer realm="pixyproxy"/);
    expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('refuses an expired key with 401', async () => {
    const { t, key, bearer } = await start();
    await t.context.db.run("UPDATE api_key SET expires_at = '2020-01-01 00:00:00.000' WHERE id = :id", { id: key.id });
    expect(expectProblem(await createWith(bearer), 401, 'AuthenticationError').detail).toBe('The API key has expired');
  });

  it('refuses a revoked key with 401 on the next request', async () => {
    const { t, key, bearer } = await start();
    expect((await createWith(bearer)).statusCode).toBe(201);
    await t.context.services.apiKeys.revoke(key.id);
    expect(expectProblem(await createWith(bearer), 401, 'AuthenticationError').detail).toBe('The API key has been revoked');
  });

  it('offers both challenges when no credentials are sent', async () => {
    await start();
    const response = await t!.app.inject({ method: 'POST', url: '/image', payload: makeImageInput() });
    expectProblem(response, 401, 'AuthenticationError');
    expect(response.headers['www-authenticate']).toBe('Basic realm="pixyproxy", charset="UTF-8", Bearer realm="pixyproxy"');
  });
});

describe('failed bearer attempts', () => {
  it('count toward the failed-login limit of the client address, for Basic too', async () => {
    const { alice } = await start({ env: { AUTH_FAILURE_LIMIT: '3' } });
    for (let i = 0; i < 3; i++) expectProblem(await createWith(`Bearer pxy_${String(i).repeat(43)}`), 401, 'AuthenticationError');
    const refused = await createWith(`Bearer pxy_${'9'.repeat(43)}`);
    expectProblem(refused, 429, 'TooManyRequestsError');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expectProblem(await createWith(alice), 429, 'TooManyRequestsError');
  });

  it('are the only ones counted: many concurrent requests with a valid key all pass', async () => {
    const { bearer } = await start({ env: { AUTH_FAILURE_LIMIT: '2' } });
    const responses = await Promise.all(Array.from({ length: 6 }, () => createWith(bearer)));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(6).fill(201));
  });
});

describe('tokens in logs', () => {
  it('never appear, in request lines or refusals', async () => {
    const capture = captureLogs('debug');
    const { t, key, bearer } = await start({ app: { logger: capture.logger } });
    await createWith(bearer);
    await createWith(`Bearer ${key.token.slice(0, -1)}x`);
    await t.context.services.apiKeys.revoke(key.id);
    await createWith(bearer);
    const created = await t.app.inject({ method: 'POST', url: '/me/keys', headers: { authorization: await t.addUser('carol', 'carol password 1') }, payload: {} });
    const carolToken = created.json<CreatedApiKey>().token;
    const text = capture.lines.join('\n');
    expect(capture.lines.length).toBeGreaterThan(6);
    for (const secret of [key.token, key.token.slice(4), carolToken, carolToken.slice(4)]) expect(text).not.toContain(secret);
  });
});
