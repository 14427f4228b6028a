import { afterEach, describe, expect, it } from 'vitest';
import { makeImageInput } from '../support/factories.js';
import { failingGenerator } from '../support/fakes.js';
import { captureLogs, type LogCapture } from '../support/log-capture.js';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'tr0ub4dor&3-very-secret';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function appWithLogs(capture: LogCapture, options: Parameters<typeof createTestApp>[0] = {}) {
  t = await createTestApp({ ...options, app: { logger: capture.logger } });
  return t;
}

function linesFor(capture: LogCapture, reqId: string) {
  const mine = capture.records().filter((r) => r['reqId'] === reqId);
  return {
    started: mine.filter((r) => r['msg'] === 'request started'),
    completed: mine.filter((r) => r['msg'] === 'request completed'),
  };
}

describe('request logging', () => {
  it('writes exactly one "request started" and one "request completed" line per request', async () => {
    const capture = captureLogs('info');
    const app = await appWithLogs(capture);
    const response = await app.app.inject({ url: '/image?limit=5', headers: { 'x-request-id': 'log-test-1' } });
    expect(response.statusCode).toBe(200);
    const { started, completed } = linesFor(capture, 'log-test-1');
    expect(started).toHaveLength(1);
    expect(completed).toHaveLength(1);
    expect(started[0]).toMatchObject({ level: 30, method: 'GET', path: '/image', remote_address: '127.0.0.1' });
    expect(completed[0]).toMatchObject({ level: 30, status: 200 });
    expect(typeof completed[0]!['duration_ms']).toBe('number');
    expect(completed[0]).not.toHaveProperty('username');
    // Nothing else is logged for a plain successful request.
    expect(capture.records().filter((r) => r['reqId'] === 'log-test-1')).toHaveLength(2);
  });

  it('names the authenticated user on the completed line', async () => {
    const capture = captureLogs('info');
    const app = await appWithLogs(capture);
    const auth = await app.addUser('alice', PASSWORD);
    await app.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth, 'x-request-id': 'log-test-2' }, payload: makeImageInput() });
    const { started, completed } = linesFor(capture, 'log-test-2');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ method: 'POST', path: '/image' });
    expect(completed).toEqual([expect.objectContaining({ status: 201, username: 'alice' })]);
  });

  it('logs the path without the query string', async () => {
    const capture = captureLogs('info');
    const app = await appWithLogs(capture);
    await app.app.inject({ url: '/image?tag=secret-looking', headers: { 'x-request-id': 'log-test-3' } });
    expect(linesFor(capture, 'log-test-3').started[0]).toMatchObject({ path: '/image' });
  });
});

describe('secrets in logs', () => {
  // Every level, so debug lines (refused requests) are checked too.
  function expectNoSecret(capture: LogCapture, ...secrets: string[]) {
    expect(capture.lines.length).toBeGreaterThan(0);
    for (const line of capture.lines) for (const secret of secrets) expect(line).not.toContain(secret);
  }

  it('never logs the Authorization value or the password on success', async () => {
    const capture = captureLogs('trace');
    const app = await appWithLogs(capture);
    const auth = await app.addUser('alice', PASSWORD);
    const response = await app.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() });
    expect(response.statusCode).toBe(201);
    expectNoSecret(capture, auth, auth.slice('Basic '.length), PASSWORD);
  });

  it('never logs the Authorization value or the password on a 401', async () => {
    const capture = captureLogs('trace');
    const app = await appWithLogs(capture);
    await app.addUser('alice', 'the right password');
    const auth = basicHeader('alice', PASSWORD);
    const response = await app.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() });
    expect(response.statusCode).toBe(401);
    expectNoSecret(capture, auth.slice('Basic '.length), PASSWORD);
    expect(capture.records().some((r) => r['msg'] === 'request completed' && r['status'] === 401)).toBe(true);
  });

  it('never logs the Authorization value or the password on a 500, while logging the cause', async () => {
    const capture = captureLogs('trace');
    const app = await appWithLogs(capture, { generator: failingGenerator(new Error('generator exploded')) });
    const auth = await app.addUser('alice', PASSWORD);
    const response = await app.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() });
    expect(response.statusCode).toBe(500);
    expectNoSecret(capture, auth.slice('Basic '.length), PASSWORD);
    const errorLine = capture.records().find((r) => r['level'] === 50);
    expect(JSON.stringify(errorLine)).toContain('generator exploded');
    expect(errorLine).toMatchObject({ reqId: response.headers['x-request-id'] });
  });
});
