import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../support/test-app.js';

let t: TestApp;
let image: { guid: string; filename: string; byte_size: number };

beforeEach(async () => {
  t = await createTestApp();
  const auth = await t.addUser();
  image = await t.createImage(auth);
});
afterEach(() => t.close());

describe('GET /image/{guid}/content error responses', () => {
  it('answers 500 problem+json without cache validators when the bytes are missing from the store', async () => {
    await t.context.store.remove(image.filename);
    const response = await t.app.inject({ url: `/image/${image.guid}/content` });
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['cache-control']).toBeUndefined();
    expect(response.headers['etag']).toBeUndefined();
    expect(response.headers['last-modified']).toBeUndefined();
  });

  it('keeps which file is missing out of the 500 detail', async () => {
    await t.context.store.remove(image.filename);
    const response = await t.app.inject({ url: `/image/${image.guid}/content` });
    expect(response.json()).toMatchObject({ status: 500, error: 'InternalServerError', detail: 'An unexpected error occurred' });
    expect(response.body).not.toContain(image.filename);
  });
});
