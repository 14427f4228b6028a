import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let auth: string;

beforeEach(async () => {
  t = await createTestApp();
  auth = await t.addUser();
});
afterEach(() => t.close());

describe('POST /image body media types', () => {
  it.each(['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/octet-stream'])(
    'returns 415 problem+json for a %s body',
    async (contentType) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/image',
        headers: { authorization: auth, 'content-type': contentType },
        payload: '{"prompt":"a cat"}',
      });
      expect(response.statusCode).toBe(415);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 415, error: 'UnsupportedMediaTypeError' });
    },
  );

  it('accepts application/json with a charset parameter', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/image',
      headers: { authorization: auth, 'content-type': 'application/json; charset=utf-8' },
      payload: '{"prompt":"a cat"}',
    });
    expect(response.statusCode).toBe(201);
  });
});
