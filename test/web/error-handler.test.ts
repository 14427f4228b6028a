import { afterEach, describe, expect, it } from 'vitest';
import { makeImageInput } from '../support/factories.js';
import { expectProblem } from '../support/expect-problem.js';
import { failingGenerator } from '../support/fakes.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/nothing/here'],
    ['GET', '/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41/thumbnail'],
    ['DELETE', '/health'],
  ])('answers %s %s with 404 EndpointNotFoundError problem+json', async (method, url) => {
    t = await createTestApp();
    const response = await t.app.inject({ method: method as 'GET', url });
    const body = expectProblem(response, 404, 'EndpointNotFoundError');
    expect(body.instance).toBe(url);
  });
});

describe('unexpected failures', () => {
  it('answers a generator that throws a plain Error with a generic 500, leaking neither message nor stack', async () => {
    t = await createTestApp({ generator: failingGenerator(new Error('socket hang up at /srv/secret/path token=sk-123')) });
    const auth = await t.addUser();
    const response = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() });
    const body = expectProblem(response, 500, 'InternalServerError');
    expect(body.detail).toBe('An unexpected error occurred');
    expect(response.body).not.toMatch(/socket hang up|secret|sk-123|stack|\bat \S+ \(/);
    expect(Object.keys(body).sort()).toEqual(['detail', 'error', 'instance', 'request_id', 'status', 'title', 'type']);
  });

  it('stores nothing when the generator fails', async () => {
    t = await createTestApp({ generator: failingGenerator(new Error('boom')) });
    const auth = await t.addUser();
    await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() });
    expect((await t.app.inject({ url: '/image' })).json()).toEqual([]);
  });
});

describe('X-Request-Id', () => {
  it('echoes a valid incoming id in the header and the problem body', async () => {
    t = await createTestApp();
    const id = 'trace-01.ABC:xyz_9';
    const response = await t.app.inject({ url: '/nothing', headers: { 'x-request-id': id } });
    expect(response.headers['x-request-id']).toBe(id);
    expect(response.json().request_id).toBe(id);
  });

  it('echoes a valid incoming id on success too', async () => {
    t = await createTestApp();
    const response = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(response.headers['x-request-id']).toBe('abc-123');
  });

  it.each([
    ['200 characters long', 'a'.repeat(200)],
    ['containing spaces', 'has spaces in it'],
    ['containing a newline-like escape or slash', 'a/b\\c'],
    ['empty', ''],
  ])('replaces an id %s with a fresh UUID', async (_case, id) => {
    t = await createTestApp();
    const response = await t.app.inject({ url: '/nothing', headers: { 'x-request-id': id } });
    const fresh = response.headers['x-request-id'];
    expect(fresh).toMatch(UUID);
    expect(response.json().request_id).toBe(fresh);
  });

  it('gives each request without an id its own UUID', async () => {
    t = await createTestApp();
    const first = (await t.app.inject({ url: '/health' })).headers['x-request-id'];
    const second = (await t.app.inject({ url: '/health' })).headers['x-request-id'];
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });
});
