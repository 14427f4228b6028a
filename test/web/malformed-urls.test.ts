import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { captureLogs } from '../support/log-capture.js';

let t: TestApp;
const log = captureLogs();
beforeAll(async () => {
  t = await createTestApp({ app: { logger: log.logger } });
});
afterAll(() => t.close());

describe('URLs Fastify refuses before routing', () => {
  it('answers a path parameter over 100 characters with a 400 problem pointing at it, not a bare 414', async () => {
    const response = await t.app.inject({ url: `/image/${' '.repeat(150)}/content` });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ error: 'DataValidationError', errors: [expect.objectContaining({ path: '/params/guid' })] });
    expect(response.headers['content-security-policy']).toBeDefined();
  });

  it('answers a broken percent-encoding with 400 problem+json, security headers and both log lines', async () => {
    const response = await t.app.inject({ url: '/image/%E0%A4%A', headers: { 'x-request-id': 'bad-url-1' } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 400, error: 'BadRequestError', request_id: 'bad-url-1', instance: '/image/%E0%A4%A' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    const lines = log.records().filter((r) => r['reqId'] === 'bad-url-1').map((r) => r['msg']);
    expect(lines).toEqual(['request started', 'request completed']);
  });
});
