import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, rawRequest } from '../support/raw-http.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// A real socket: whether Content-Length: 0 is sent is decided on the wire, and inject() adds its own.
let t: TestApp;
let port: number;
let auth: string;

beforeAll(async () => {
  t = await createTestApp();
  auth = await t.addUser();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(() => t.close());

// What some REST client libraries send on every request, whether or not there is a body.
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'nonsense'];
// With and without an explicit empty length: both announce no content (RFC 9112 6.3).
const LENGTHS: ReadonlyArray<Record<string, string>> = [{ 'Content-Length': '0' }, {}];

describe.each(CONTENT_TYPES)('a request with no content but Content-Type: %s', (contentType) => {
  describe.each(LENGTHS)('and headers %j', (length) => {
    const send = (method: string, path: string, extra: Record<string, string> = {}) =>
      rawExchange(port, method, path, { 'Content-Type': contentType, ...length, ...extra });

    it('deletes an image with DELETE /image/{guid} (204)', async () => {
      const { guid } = await t.createImage(auth);
      expect((await send('DELETE', `/image/${guid}`, { Authorization: auth })).status).toBe(204);
      expect((await rawExchange(port, 'GET', `/image/${guid}`)).status).toBe(404);
    });

    it('reads every public route as without the header', async () => {
      const { guid } = await t.createImage(auth);
      for (const [method, path] of [
        ['GET', '/health'],
        ['GET', '/ready'],
        ['GET', '/image'],
        ['GET', `/image/${guid}`],
        ['GET', `/image/${guid}/content`],
        ['HEAD', `/image/${guid}/content`],
        ['GET', '/openapi.json'],
      ] as const) {
        expect((await send(method, path)).status, `${method} ${path}`).toBe(200);
      }
    });
  });
});

describe('requests that carry content, or must', () => {
  it('still refuses a DELETE with a text/plain body with 415', async () => {
    const { guid } = await t.createImage(auth);
    const request = [`DELETE /image/${guid} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', `Authorization: ${auth}`,
      'Content-Type: text/plain', 'Content-Length: 2', '', 'hi'].join('\r\n');
    expect((await rawRequest(port, request)).status).toBe(415);
  });

  it('still refuses a POST /image with no body as an empty JSON body (400)', async () => {
    const response = await rawExchange(port, 'POST', '/image', { Authorization: auth, 'Content-Type': 'application/json', 'Content-Length': '0' });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body.toString())).toMatchObject({ error: 'BadRequestError' });
  });
});
