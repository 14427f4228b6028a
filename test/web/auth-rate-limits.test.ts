import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';
import { makeImageInput } from '../support/factories.js';

const LIMIT = 3;
let t: TestApp;
let alice: string;

beforeEach(async () => {
  t = await createTestApp({ env: { AUTH_FAILURE_LIMIT: String(LIMIT), CREATE_RATE_LIMIT: '2' } });
  alice = await t.addUser('alice', 'correct horse battery');
  await t.addUser('bob', 'bob password 123');
});
afterEach(() => t.close());

function create(authorization: string, remoteAddress = '127.0.0.1') {
  return t.app.inject({ method: 'POST', url: '/image', headers: { authorization }, payload: makeImageInput(), remoteAddress });
}

function expectTooMany(response: Awaited<ReturnType<typeof create>>) {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(response.json()).toMatchObject({ status: 429, error: 'TooManyRequestsError' });
}

describe('failed Basic-auth attempts', () => {
  it('answers 429 with Retry-After once a client address passes the limit, even for another username', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await create(basicHeader('alice', `wrong ${i}`), '10.0.0.1')).statusCode).toBe(401);
    expectTooMany(await create(basicHeader('alice', 'another guess'), '10.0.0.1'));
    expectTooMany(await create(basicHeader('bob', 'bob password 123'), '10.0.0.1'));
  });

  it('counts garbled Authorization headers against the client address', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await create('Basic %%%not-base64', '10.0.0.2')).statusCode).toBe(401);
    expectTooMany(await create(basicHeader('alice', 'correct horse battery'), '10.0.0.2'));
  });

  it('lets a client under its own limit log in while another client hammers the same username', async () => {
    for (let i = 0; i < LIMIT + 2; i++) await create(basicHeader('alice', `wrong ${i}`), '10.0.0.3');
    expect((await create(alice, '10.0.0.4')).statusCode).toBe(201);
  });

  it('refuses a locked username to a second attacking address after its first failure', async () => {
    for (let i = 0; i < LIMIT; i++) await create(basicHeader('alice', `wrong ${i}`), '10.0.0.5');
    // The username is now over its limit: a new address gets one guess, then is refused for alice...
    expect((await create(basicHeader('alice', 'guess from elsewhere'), '10.0.0.6')).statusCode).toBe(401);
    expectTooMany(await create(alice, '10.0.0.6'));
    // ...but not for a username it has not failed against.
    expect((await create(basicHeader('bob', 'bob password 123'), '10.0.0.6')).statusCode).toBe(201);
  });

  it('does not hash or check the password once the client is over its limit', async () => {
    for (let i = 0; i < LIMIT; i++) await create(basicHeader('alice', `wrong ${i}`), '10.0.0.7');
    // The correct password from a blocked address is refused too: a guess that would succeed is not revealed.
    expectTooMany(await create(alice, '10.0.0.7'));
  });
});

describe('concurrent login attempts', () => {
  it('counts guesses before they are verified, so a burst from one address gets no more than the limit checked', async () => {
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => create(basicHeader('alice', `burst guess ${i}`), '10.0.1.1')));
    const statuses = burst.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(LIMIT);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20 - LIMIT);
  });

  it('lets a burst of correct logins from one client through even with a cold credential cache', async () => {
    const burst = await Promise.all(Array.from({ length: 10 }, () => t.app.inject({ url: '/image', method: 'POST', headers: { authorization: alice }, payload: { prompt: '' }, remoteAddress: '10.0.1.2' })));
    // Authenticated, then refused by validation: none of them is a 401 or 429.
    expect(burst.map((r) => r.statusCode)).toEqual(Array(10).fill(400));
  });
});

describe('POST /image rate limit', () => {
  it('answers 429 problem+json with Retry-After after CREATE_RATE_LIMIT creates by one user in a minute', async () => {
    expect((await create(alice)).statusCode).toBe(201);
    expect((await create(alice)).statusCode).toBe(201);
    expectTooMany(await create(alice));
  });

  it('counts each user separately', async () => {
    await create(alice);
    await create(alice);
    expect((await create(basicHeader('bob', 'bob password 123'))).statusCode).toBe(201);
  });

  it.each([
    ['the request schema', { prompt: '' }],
    ["the model's option rules", { prompt: 'x', size: '8x8' }],
    ["the model's option rules", { prompt: 'x', model: 'dall-e-3' }],
  ])('does not count requests refused by %s', async (_, body) => {
    for (let i = 0; i < 3; i++) {
      const bad = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: alice }, payload: body });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'DataValidationError' });
    }
    expect((await create(alice)).statusCode).toBe(201);
    expect((await create(alice)).statusCode).toBe(201);
  });
});
