import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { captureLogs, type LogCapture } from '../support/log-capture.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let log: LogCapture;

beforeEach(async () => {
  log = captureLogs();
  t = await createTestApp({ app: { logger: log.logger } });
  // A real socket: these faults are answered by the router before inject()'s usual path.
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(() => t.close());

function url(path: string) {
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}${path}`;
}

const SECURITY_HEADER_NAMES = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'strict-transport-security', 'cross-origin-resource-policy'];

/** The security headers of a response, to compare with those of an ordinary routed one. */
function securityHeadersOf(response: Response): Record<string, string | null> {
  return Object.fromEntries(SECURITY_HEADER_NAMES.map((name) => [name, response.headers.get(name)]));
}

describe('URLs Fastify refuses before routing', () => {
  it('answers a malformed percent-encoding in the path with 400 problem+json carrying the request id', async () => {
    const response = await fetch(url('/image/%zz'), { headers: { 'x-request-id': 'bad-url-1' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('x-request-id')).toBe('bad-url-1');
    expect(await response.json()).toMatchObject({ status: 400, error: 'BadRequestError', request_id: 'bad-url-1', instance: '/image/%zz' });
  });

  it('sends the same security headers on such an answer as on any other response', async () => {
    const ordinary = await fetch(url('/health'));
    await ordinary.arrayBuffer();
    const refused = await fetch(url('/image/%E0%A4%A'));
    await refused.arrayBuffer();
    expect(refused.status).toBe(400);
    expect(securityHeadersOf(refused)).toEqual(securityHeadersOf(ordinary));
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(refused.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('logs exactly one started and one completed line for such a request', async () => {
    await (await fetch(url('/image/%zz'), { headers: { 'x-request-id': 'bad-url-2' } })).text();
    // The closing line is written when the response finishes; poll instead of sleeping a fixed time.
    const mine = () => log.records().filter((line) => line['reqId'] === 'bad-url-2').map((line) => line['msg']);
    await expect.poll(mine, { timeout: 10_000 }).toEqual(['request started', 'request completed']);
  });

  it('answers a path parameter far longer than a guid with a 400 problem pointing at it, not a bare 414', async () => {
    // The router's default limit (100) would have Fastify answer on its own; ours lets the schema explain.
    const response = await t.app.inject({ url: `/image/${'a'.repeat(5000)}/content` });
    const body = expectProblem(response, 400, 'DataValidationError');
    expect(body.errors).toEqual([expect.objectContaining({ path: '/params/guid' })]);
    expect(response.headers['content-security-policy']).toBeDefined();
  });

  it('answers a path parameter of 150 spaces the same way', async () => {
    const response = await t.app.inject({ url: `/image/${' '.repeat(150)}/content` });
    const body = expectProblem(response, 400, 'DataValidationError');
    expect(body.errors).toEqual([expect.objectContaining({ path: '/params/guid' })]);
  });
});
