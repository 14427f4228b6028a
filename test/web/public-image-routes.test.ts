import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { makeImageInput, PNG_SIGNATURE } from '../support/factories.js';

let t: TestApp;
let auth: string;

beforeEach(async () => {
  t = await createTestApp();
  auth = await t.addUser();
});
afterEach(() => t.close());

async function createImage(body = makeImageInput()) {
  const response = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: body });
  expect(response.statusCode).toBe(201);
  return response.json() as { guid: string };
}

describe('GET /image/{guid}', () => {
  it('returns the detail of a created image', async () => {
    const { guid } = await createImage(makeImageInput({ prompt: 'a blue whale', tags: ['Ocean'] }));
    const response = await t.app.inject({ url: `/image/${guid}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ guid, prompt: 'a blue whale', tags: ['ocean'], author: 'alice' });
  });

  it('returns 404 problem+json for an unknown guid', async () => {
    const response = await t.app.inject({ url: '/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 404, error: 'RecordNotFoundError', request_id: response.headers['x-request-id'] });
  });

  it('returns 400 problem+json pointing at the guid when it is not a UUID', async () => {
    const response = await t.app.inject({ url: '/image/not-a-uuid' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ path: '/params/guid' })]);
  });
});

describe('GET /image/{guid}/content', () => {
  it('returns the PNG bytes with their length', async () => {
    const { guid } = await createImage();
    const response = await t.app.inject({ url: `/image/${guid}/content` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.rawPayload.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
  });
});
