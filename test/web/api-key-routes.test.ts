import { afterEach, describe, expect, it } from 'vitest';
import type { ApiKey, CreatedApiKey } from '../../src/core/models/api-key.js';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { makeImageInput } from '../support/factories.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start() {
  t = await createTestApp();
  return { t, alice: await t.addUser('alice'), bob: await t.addUser('bob', 'bob password 123') };
}

function createKey(authorization: string, payload: object = {}) {
  return t!.app.inject({ method: 'POST', url: '/me/keys', headers: { authorization }, payload });
}

function listKeys(authorization: string) {
  return t!.app.inject({ url: '/me/keys', headers: { authorization } });
}

describe('POST /me/keys', () => {
  it('creates a key and answers its token once, with Location and no-store', async () => {
    const { alice } = await start();
    const response = await createKey(alice, { label: 'laptop', expires_in: '12h' });
    expect(response.statusCode).toBe(201);
    const key = response.json<CreatedApiKey>();
    expect(key).toMatchObject({ label: 'laptop', revoked_at: null, last_used_at: null });
    expect(key.token).toMatch(/^pxy_[0-9A-Za-z]{43}$/);
    expect(key.prefix).toBe(key.token.slice(0, 12));
    expect(Date.parse(key.expires_at!) - Date.parse(key.created_at)).toBe(12 * 3600 * 1000);
    expect(response.headers['location']).toBe(`/me/keys/${key.id}`);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('gives a key that works as a bearer token for its user', async () => {
    const { alice } = await start();
    const { token } = (await createKey(alice)).json<CreatedApiKey>();
    const created = await t!.app.inject({ method: 'POST', url: '/image', headers: { authorization: `Bearer ${token}` }, payload: makeImageInput() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ author: 'alice' });
  });

  it('refuses a request made with an API key: a key cannot mint keys', async () => {
    const { alice } = await start();
    const { token } = (await createKey(alice)).json<CreatedApiKey>();
    expectProblem(await createKey(`Bearer ${token}`), 403, 'OperationNotAllowedError');
    expect((await listKeys(alice)).json()).toHaveLength(1);
  });

  it.each([
    ['an expiry that is not a duration', { expires_in: 'tomorrow' }, '/body/expires_in'],
    ['an unknown property', { scopes: ['images'] }, '/body/scopes'],
    ['a label over 200 characters', { label: 'x'.repeat(201) }, '/body/label'],
  ])('refuses %s with 400 naming the field', async (_case, payload, path) => {
    const { alice } = await start();
    expect(errorPaths(expectProblem(await createKey(alice, payload), 400, 'DataValidationError'))).toEqual([path]);
  });

  it('needs credentials', async () => {
    await start();
    expectProblem(await t!.app.inject({ method: 'POST', url: '/me/keys', payload: {} }), 401, 'AuthenticationError');
  });
});

describe('GET /me/keys', () => {
  it("lists only the caller's keys, newest first, never with a token", async () => {
    const { alice, bob } = await start();
    const first = (await createKey(alice, { label: 'first' })).json<CreatedApiKey>();
    const second = (await createKey(alice, { label: 'second' })).json<CreatedApiKey>();
    await createKey(bob);
    const response = await listKeys(`Bearer ${first.token}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const keys = response.json<ApiKey[]>();
    expect(keys.map((key) => key.id)).toEqual([second.id, first.id]);
    expect(response.body).not.toContain(first.token.slice(12));
    expect(keys[0]).not.toHaveProperty('token');
  });

  it('shows when a key was last used', async () => {
    const { alice } = await start();
    const { token, id } = (await createKey(alice)).json<CreatedApiKey>();
    const before = Date.now();
    await t!.app.inject({ method: 'POST', url: '/image', headers: { authorization: `Bearer ${token}` }, payload: makeImageInput() });
    const key = (await listKeys(alice)).json<ApiKey[]>().find((k) => k.id === id)!;
    expect(Date.parse(key.last_used_at!)).toBeGreaterThanOrEqual(before - 1);
  });
});

describe('DELETE /me/keys/{id}', () => {
  it('revokes the key: its token is refused from the next request on, and the list says when', async () => {
    const { alice } = await start();
    const { token, id } = (await createKey(alice)).json<CreatedApiKey>();
    const revoked = await t!.app.inject({ method: 'DELETE', url: `/me/keys/${id}`, headers: { authorization: alice } });
    expect(revoked.statusCode).toBe(204);
    const refused = await t!.app.inject({ method: 'POST', url: '/image', headers: { authorization: `Bearer ${token}` }, payload: makeImageInput() });
    expect(expectProblem(refused, 401, 'AuthenticationError').detail).toBe('The API key has been revoked');
    expect(refused.headers['www-authenticate']).toContain('Bearer realm="pixyproxy", error="invalid_token"');
    expect((await listKeys(alice)).json<ApiKey[]>()[0]!.revoked_at).toEqual(expect.any(String));
  });

  it("answers 404 for another user's key and leaves it working", async () => {
    const { alice, bob } = await start();
    const { token, id } = (await createKey(bob)).json<CreatedApiKey>();
    expectProblem(await t!.app.inject({ method: 'DELETE', url: `/me/keys/${id}`, headers: { authorization: alice } }), 404, 'RecordNotFoundError');
    expect((await listKeys(`Bearer ${token}`)).statusCode).toBe(200);
  });

  it('refuses an id that is not a key id with 400', async () => {
    const { alice } = await start();
    const response = await t!.app.inject({ method: 'DELETE', url: '/me/keys/not-an-id', headers: { authorization: alice } });
    expect(errorPaths(expectProblem(response, 400, 'DataValidationError'))).toEqual(['/params/id']);
  });
});
