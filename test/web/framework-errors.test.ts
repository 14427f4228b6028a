import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let lines: Array<Record<string, unknown>>;

beforeEach(async () => {
  lines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  t = await createTestApp({ app: { logger: pino({ level: 'info' }, sink) } });
  // A real socket: these faults are answered by the router before inject()'s usual path.
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(() => t.close());

function url(path: string) {
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}${path}`;
}

describe('faults Fastify answers before routing', () => {
  it('returns 400 problem+json with a request id for a malformed percent-encoding in the path', async () => {
    const response = await fetch(url('/image/%zz'), { headers: { 'x-request-id': 'bad-url-1' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('x-request-id')).toBe('bad-url-1');
    expect(await response.json()).toMatchObject({ status: 400, error: 'BadRequestError', request_id: 'bad-url-1' });
  });

  it('returns 400 problem+json pointing at the guid for a path parameter far longer than a guid', async () => {
    // The router's default limit (100) would have Fastify answer on its own; ours lets the schema explain.
    const response = await fetch(url(`/image/${'a'.repeat(5000)}/content`));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 400, error: 'DataValidationError', errors: [{ path: '/params/guid' }] });
  });

  it('logs exactly one started and one completed line for such a request', async () => {
    await (await fetch(url('/image/%zz'), { headers: { 'x-request-id': 'bad-url-2' } })).text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const mine = lines.filter((line) => line['reqId'] === 'bad-url-2').map((line) => line['msg']);
    expect(mine).toEqual(['request started', 'request completed']);
  });
});
