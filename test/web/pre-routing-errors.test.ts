import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { captureLogs } from '../support/log-capture.js';
import { rawExchange, rawRequest, type RawResponse } from '../support/raw-http.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// Real sockets throughout: these faults are answered by Node's HTTP parser, by Node itself or by
// Fastify's router, before the path app.inject() takes.
let t: TestApp;
let port: number;
let securityHeaders: Record<string, string>;
const log = captureLogs();

// Headers that differ per response or per kind of response, not part of the security policy.
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'x-request-id']);

beforeAll(async () => {
  t = await createTestApp({ app: { logger: log.logger } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
  const ordinary = await rawExchange(port, 'GET', '/health');
  securityHeaders = Object.fromEntries(Object.entries(ordinary.headers).filter(([name]) => !PER_RESPONSE.has(name)));
  expect(securityHeaders['content-security-policy']).toBeDefined();
});
afterAll(() => t.close());

const request = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const BIG = 'a'.repeat(20 * 1024);

/** A problem+json answer with a request id, the security headers of any other response, and a log line. */
function expectAnswered(response: RawResponse, status: number, error: string) {
  const body = expectProblem(response, status, error);
  for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers[name], name).toBe(value);
  const logged = log.records().filter((record) => record['reqId'] === body.request_id);
  expect(logged.length, 'log lines with the request id').toBeGreaterThan(0);
  return body;
}

describe("faults Node's HTTP parser refuses", () => {
  it.each([
    ['a 20 KB header', 431, 'RequestHeaderFieldsTooLargeError', request(['GET /health HTTP/1.1', 'Host: 127.0.0.1', `X-Big: ${BIG}`])],
    ['3000 small headers', 431, 'RequestHeaderFieldsTooLargeError', request(['GET /health HTTP/1.1', 'Host: 127.0.0.1', ...Array.from({ length: 3000 }, (_, i) => `X-${i}: 1`)])],
    ['a 20 KB URL', 414, 'UriTooLongError', request([`GET /image/${BIG} HTTP/1.1`, 'Host: 127.0.0.1'])],
    ['a header line without a colon', 400, 'BadRequestError', request(['GET /health HTTP/1.1', 'Host: 127.0.0.1', 'Bad Header: y'])],
    ['an unknown method', 400, 'BadRequestError', request(['FOO /health HTTP/1.1', 'Host: 127.0.0.1'])],
    ['a method that is not a token', 400, 'BadRequestError', request(['G@T /health HTTP/1.1', 'Host: 127.0.0.1'])],
    ['a request line that is not HTTP', 400, 'BadRequestError', request(['hello'])],
    ['an unknown HTTP version', 400, 'BadRequestError', request(['GET /health HTTP/9.9', 'Host: 127.0.0.1'])],
    ['a space in the request target', 400, 'BadRequestError', request(['GET /a b HTTP/1.1', 'Host: 127.0.0.1'])],
    ['Content-Length together with Transfer-Encoding', 400, 'BadRequestError', request(['POST /image HTTP/1.1', 'Host: 127.0.0.1', 'Content-Length: 3', 'Transfer-Encoding: chunked']) + '0\r\n\r\n'],
  ] as const)('answers %s with %i %s as problem+json, a request id, the security headers and a log line', async (_label, status, error, bytes) => {
    const response = await rawRequest(port, bytes);
    const body = expectAnswered(response, status, error);
    expect(body.detail).not.toMatch(/Parse Error|HPE_/);
    expect(response.headers['connection']).toBe('close');
  });

  it('names the path as the instance when the request line could be read', async () => {
    const body = expectAnswered(await rawRequest(port, request(['GET /health HTTP/1.1', 'Host: 127.0.0.1', 'Bad Header: y'])), 400, 'BadRequestError');
    expect(body).toMatchObject({ instance: '/health', detail: expect.stringContaining('header line is malformed') });
  });

  it('still serves the next connection normally', async () => {
    await rawRequest(port, request(['FOO / HTTP/1.1']));
    expect((await rawExchange(port, 'GET', '/health')).status).toBe(200);
  });
});

describe('requests Node would answer by itself', () => {
  it('answers an HTTP/1.1 request without Host with 400 problem+json (RFC 9112 3.2)', async () => {
    const body = expectAnswered(await rawRequest(port, request(['GET /health HTTP/1.1', 'Connection: close'])), 400, 'BadRequestError');
    expect(body.detail).toContain('Host');
  });

  it('answers an HTTP/1.0 request without Host normally', async () => {
    expect((await rawRequest(port, request(['GET /health HTTP/1.0']))).status).toBe(200);
  });

  it('answers an Expect other than 100-continue with 417 problem+json', async () => {
    const response = await rawExchange(port, 'GET', '/health', { Expect: 'something-else' });
    expectAnswered(response, 417, 'ExpectationFailedError');
  });
});

describe('URLs Fastify refuses before routing', () => {
  it.each([
    ['/image/%zz', 'bad-url-1'],
    ['/image/%E0%A4%A', 'bad-url-2'],
  ])('answers the broken percent-encoding %s with 400 problem+json, the documented detail and both log lines', async (path, id) => {
    const response = await rawExchange(port, 'GET', path, { 'X-Request-Id': id });
    const body = expectAnswered(response, 400, 'BadRequestError');
    expect(body).toMatchObject({ request_id: id, instance: path, detail: 'The URL is not validly percent-encoded' });
    const lines = log.records().filter((r) => r['reqId'] === id).map((r) => r['msg']);
    expect(lines).toEqual(['request started', 'request completed']);
  });

  it('answers a path parameter far longer than a guid with 400 problem+json pointing at it, not a bare 414', async () => {
    const response = await rawExchange(port, 'GET', `/image/${'a'.repeat(5000)}/content`);
    const body = expectAnswered(response, 400, 'DataValidationError');
    expect(body.errors).toEqual([expect.objectContaining({ path: '/params/guid' })]);
  });
});
