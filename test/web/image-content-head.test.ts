import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let base: string;
let guid: string;

beforeEach(async () => {
  t = await createTestApp();
  const auth = await t.addUser();
  ({ guid } = await t.createImage(auth));
  // A real socket: what a HEAD response's headers say is decided on the wire, not by inject().
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(() => t.close());

describe('HEAD /image/{guid}/content', () => {
  it('answers with the Content-Length of the bytes and no body', async () => {
    const get = await fetch(`${base}/image/${guid}/content`);
    const bytes = Buffer.from(await get.arrayBuffer());
    const head = await fetch(`${base}/image/${guid}/content`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(head.headers.get('content-type')).toBe('image/png');
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 404 for an unknown guid', async () => {
    const head = await fetch(`${base}/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41/content`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });
});
