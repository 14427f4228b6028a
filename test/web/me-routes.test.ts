import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

describe('GET /me', () => {
  it('answers the username and admin flag the credentials belong to', async () => {
    const auth = await t.addUser('bob', 'correct horse battery');
    const response = await t.app.inject({ url: '/me', headers: { authorization: auth } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ username: 'bob', admin: false });
  });

  it('says admin: true for an admin', async () => {
    const auth = await t.addUser('root', 'correct horse battery', true);
    expect((await t.app.inject({ url: '/me', headers: { authorization: auth } })).json()).toEqual({ username: 'root', admin: true });
  });

  it('answers 401 problem+json with a Basic challenge for a wrong password', async () => {
    await t.addUser('bob', 'correct horse battery');
    const response = await t.app.inject({ url: '/me', headers: { authorization: basicHeader('bob', 'wrong password') } });
    const body = expectProblem(response, 401, 'AuthenticationError');
    expect(response.headers['www-authenticate']).toMatch(/^Basic /);
    expect(JSON.stringify(body)).not.toContain('wrong password');
  });

  it('counts failures against the same limit as the image writes', async () => {
    const limited = await createTestApp({ env: { AUTH_FAILURE_LIMIT: '2' } });
    try {
      await limited.addUser('bob', 'correct horse battery');
      const wrong = { authorization: basicHeader('bob', 'wrong password') };
      await limited.app.inject({ url: '/me', headers: wrong });
      await limited.app.inject({ method: 'DELETE', url: '/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41', headers: wrong });
      expectProblem(await limited.app.inject({ url: '/me', headers: wrong }), 429, 'TooManyRequestsError');
    } finally {
      await limited.close();
    }
  });
});
