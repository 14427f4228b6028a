import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;

beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

describe('GET /health', () => {
  it('answers 200 {"status":"ok"}', async () => {
    const response = await t.app.inject({ url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('still answers 200 while the database is down: the process is alive', async () => {
    await t.context.db.close();
    expect((await t.app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});

describe('GET /ready', () => {
  it('answers 200 {"status":"ready"} when the database answers', async () => {
    const response = await t.app.inject({ url: '/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
  });

  it('answers 503 DBConnectionError with Retry-After when the database is closed', async () => {
    await t.context.db.close();
    const response = await t.app.inject({ url: '/ready' });
    expectProblem(response, 503, 'DBConnectionError');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('answers data requests with 503 DBConnectionError, not 500, when the database is closed', async () => {
    await t.context.db.close();
    const response = await t.app.inject({ url: '/image' });
    expectProblem(response, 503, 'DBConnectionError');
    expect(response.headers['retry-after']).toBeDefined();
  });
});
