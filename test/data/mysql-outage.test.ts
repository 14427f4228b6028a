import { readdir } from 'node:fs/promises';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { migrate } from '../../src/data/migrator.js';
import { openDatabase } from '../../src/data/open-database.js';
import { describeMysql } from '../support/engines.js';
import { makeImageInput } from '../support/factories.js';
import { createTestDatabase, MysqlTestServer } from '../support/mysql-server.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// Generous next to the configured 1 s connect / 1.5 s query bounds: the point is "answers", not "fast".
const ANSWER_BOUND_MS = 8000;
const POOL_SIZE = 4;

describeMysql('when the MySQL server goes away', () => {
  let server: MysqlTestServer;
  let t: TestApp;
  let auth: string;
  let guid: string;

  beforeAll(async () => {
    // A dedicated server: stopping the shared one would break every other test file.
    server = await MysqlTestServer.create();
    const database = await createTestDatabase(server.url);
    // Migrated first under the default bounds: on a busy machine a migration can outlast the 1.5 s
    // query bound this test sets for the outage, and the app's start then only checks the version.
    const db = await openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
    await migrate(db).finally(() => db.close());
    t = await createTestApp({ env: { DATABASE_URL: database.url, DB_CONNECT_TIMEOUT_MS: '1000', DB_QUERY_TIMEOUT_MS: '1500', DB_POOL_SIZE: String(POOL_SIZE) } });
    auth = await t.addUser();
    const created = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() });
    expect(created.statusCode).toBe(201);
    guid = created.json().guid;
  });
  afterAll(async () => {
    await t?.close();
    await server?.destroy();
  });

  // Data requests first: each must meet the outage on a pooled connection, not after /ready's deadline.
  const dataRequests = (): Array<{ name: string; request: InjectOptions; okStatus: number }> => [
    { name: 'GET /image', request: { url: '/image' }, okStatus: 200 },
    { name: 'GET /image/{guid}', request: { url: `/image/${guid}` }, okStatus: 200 },
    { name: 'GET /image/{guid}/content', request: { url: `/image/${guid}/content` }, okStatus: 200 },
    {
      name: 'POST /image',
      request: { method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() },
      okStatus: 201,
    },
    { name: 'GET /ready', request: { url: '/ready' }, okStatus: 200 },
  ];

  /** The response, or a 'no answer' marker when none came within the bound (a hang fails fast). */
  async function injectWithin(request: InjectOptions) {
    let timer: NodeJS.Timeout | undefined;
    const noAnswer = new Promise<'no answer'>((resolve) => (timer = setTimeout(() => resolve('no answer'), ANSWER_BOUND_MS)));
    try {
      return await Promise.race([t.app.inject(request), noAnswer]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function expectUnavailable(name: string, request: InjectOptions): Promise<void> {
    const response = await injectWithin(request);
    expect(response, `${name} did not answer within ${ANSWER_BOUND_MS} ms`).not.toBe('no answer');
    if (response === 'no answer') return;
    expect({
      name,
      status: response.statusCode,
      contentType: response.headers['content-type'],
      error: response.json().error,
      retryAfter: Number(response.headers['retry-after']) > 0,
    }).toEqual({ name, status: 503, contentType: expect.stringContaining('application/problem+json'), error: 'DBConnectionError', retryAfter: true });
  }

  async function expectEveryRequestUnavailable(): Promise<void> {
    const filesBefore = await readdir(t.context.config.imageDir);
    for (const { name, request } of dataRequests()) await expectUnavailable(name, request);
    // The failed create stored its bytes first; they must be gone again.
    expect(await readdir(t.context.config.imageDir)).toEqual(filesBefore);
  }

  async function expectEveryRequestServed(): Promise<void> {
    for (const { name, request, okStatus } of dataRequests()) {
      const response = await t.app.inject(request);
      expect({ name, status: response.statusCode }).toEqual({ name, status: okStatus });
    }
  }

  it('answers 503 DBConnectionError with Retry-After while the server is stopped, and serves again once it is back', async () => {
    await expectEveryRequestServed();
    await server.stop();
    await expectEveryRequestUnavailable();
    await server.start();
    await expectEveryRequestServed();
  });

  it('answers 503 within the bounds while the server hangs without answering, and serves again once it resumes', async () => {
    await expectEveryRequestServed();
    await server.freeze();
    try {
      // More requests at once than the pool has connections: none may wait for a free one forever.
      await Promise.all(Array.from({ length: POOL_SIZE + 2 }, () => expectUnavailable('GET /image (concurrent)', { url: '/image' })));
      await expectEveryRequestUnavailable();
    } finally {
      server.thaw();
    }
    await expectEveryRequestServed();
  });
});
