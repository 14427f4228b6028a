import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContext, type Context } from '../../src/cli/compose.js';
import { loadConfig } from '../../src/core/config.js';
import { LocalImageGenerator } from '../../src/service/generation/index.js';
import { buildApp } from '../../src/web/app.js';
import { captureLogs, type LogCapture } from '../support/log-capture.js';
import { basicHeader, TEST_SCRYPT } from '../support/test-app.js';

const SECRETS = {
  adminPassword: 'admin-CANARY-7f3a9c',
  userPassword: 'user-CANARY-2b8e41',
  wrongPassword: 'wrong-CANARY-d41d8c',
  openaiKey: 'sk-proj-CANARYKEY0123456789abcdefABCDEF',
  bogusAuthorization: 'Bearer bogus-CANARY-token-5e6f',
  cookie: 'session=cookie-CANARY-91ab',
  dbPassword: 'db-CANARY-c0ffee',
};
const STACK = /\n\s+at |\s{4}at /;
const SQL = /\b(SELECT|INSERT INTO|UPDATE image|DELETE FROM|image_tag|sqlite|SQLITE_)\b/i;

let dir: string;
let log: LogCapture;
let context: Context;
let app: FastifyInstance;
const responses: InjectResponse[] = [];
/** An API key's token, made through the service so no response carries it by design. */
let apiToken = '';

async function send(options: InjectOptions) {
  const response = await app.inject(options);
  responses.push(response);
  return response;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixyproxy-leak-'));
  const config = loadConfig({
    DATA_DIR: dir,
    PIXYPROXY_ADMIN_PASSWORD: SECRETS.adminPassword,
    OPENAI_API_KEY: SECRETS.openaiKey,
    IMAGE_GENERATOR: 'local',
  });
  // The most verbose level: whatever any layer might log is captured.
  log = captureLogs('trace');
  context = await openContext(config, log.logger, { generator: new LocalImageGenerator({ width: 8, height: 8 }), scrypt: TEST_SCRYPT });
  await context.services.access.ensureInitialAdmin(config.adminPassword);
  await context.services.access.addUser('alice', SECRETS.userPassword);
  app = await buildApp(context.services, { logger: log.logger, createRateLimit: config.createRateLimit });
  await app.ready();
  // A careless log of whole configuration objects must still come out redacted.
  log.logger.info({ config }, 'configuration loaded');
  log.logger.info({ database: { kind: 'mysql', user: 'pixyproxy', password: SECRETS.dbPassword } }, 'database configured');

  const alice = basicHeader('alice', SECRETS.userPassword);
  const admin = basicHeader('admin', SECRETS.adminPassword);
  const created = await send({ method: 'POST', url: '/image', headers: { authorization: alice, cookie: SECRETS.cookie }, payload: { prompt: 'a leak-free image' } });
  const { guid, filename } = created.json() as { guid: string; filename: string };
  await send({ method: 'POST', url: '/image', headers: { authorization: admin }, payload: { prompt: 'by the admin' } });
  await send({ url: `/image/${guid}` });
  await send({ url: `/image/${guid}/content` });
  await send({ url: '/image?limit=5' });
  await send({ method: 'POST', url: '/image', headers: { authorization: basicHeader('admin', SECRETS.wrongPassword) }, payload: { prompt: 'x' } });
  await send({ method: 'POST', url: '/image', headers: { authorization: SECRETS.bogusAuthorization }, payload: { prompt: 'x' } });
  await send({ method: 'POST', url: '/image', headers: { authorization: `Basic ${SECRETS.openaiKey}` }, payload: { prompt: 'x' } });
  await send({ method: 'POST', url: '/image', headers: { authorization: alice, 'content-type': 'application/json' }, payload: '{"prompt": "' });
  await send({ method: 'POST', url: '/image', headers: { authorization: alice }, payload: { prompt: 'x', password: SECRETS.userPassword } });
  await send({ url: `/nowhere?api_key=${SECRETS.openaiKey}`, headers: { 'x-api-key': SECRETS.openaiKey, cookie: SECRETS.cookie } });
  await send({ url: '/image/not-a-guid' });
  const createdKey = await context.services.apiKeys.create('alice', { label: 'leak test' });
  apiToken = createdKey.token;
  // As careless as the configuration log above: a whole created key, token included.
  log.logger.info({ key: createdKey }, 'API key created');
  log.logger.info(createdKey, 'API key created');
  const bearer = `Bearer ${apiToken}`;
  await send({ method: 'POST', url: '/image', headers: { authorization: bearer }, payload: { prompt: 'made with a key' } });
  await send({ method: 'POST', url: '/v1/images/generations', headers: { authorization: bearer }, payload: { prompt: 'made through /v1', n: 2, response_format: 'b64_json' } });
  await send({ method: 'POST', url: '/v1/images/generations', headers: { authorization: bearer }, payload: { prompt: 'x', size: '1x1' } });
  await send({ url: '/me/keys', headers: { authorization: bearer } });
  await send({ method: 'POST', url: '/me/keys', headers: { authorization: bearer }, payload: {} });
  await send({ method: 'POST', url: '/image', headers: { authorization: `Bearer ${apiToken.slice(0, -1)}0` }, payload: { prompt: 'x' } });
  await send({ method: 'POST', url: '/v1/images/generations', headers: { authorization: `bearer ${apiToken.slice(0, -1)}0` }, payload: { prompt: 'x' } });
  // A file lost from under its row, then the database gone: 5xx paths whose causes carry paths and SQL.
  await unlink(join(config.imageDir, filename));
  await send({ url: `/image/${guid}/content` });
  await context.db.close();
  await send({ url: `/image/${guid}` });
  await send({ url: '/image' });
  await send({ url: '/ready' });
  await send({ method: 'POST', url: '/image', headers: { authorization: alice }, payload: { prompt: 'while the database is down' } });
});

afterAll(async () => {
  await app?.close();
  await context?.close();
  await rm(dir, { recursive: true, force: true });
});

function secretsIn(text: string): string[] {
  const values = [
    ...Object.values(SECRETS),
    ...[SECRETS.adminPassword, SECRETS.userPassword, SECRETS.wrongPassword].map((p) => Buffer.from(p).toString('base64').slice(0, 16)),
    // Past its displayable prefix (pxy_ and 8 characters), no part of a token may show.
    apiToken.slice(12, 40),
  ];
  return values.filter((secret) => text.includes(secret));
}

describe('a session with known secrets', () => {
  it('exercised the success, refusal and failure paths', () => {
    const statuses = new Set(responses.map((r) => r.statusCode));
    for (const status of [200, 201, 400, 401, 403, 404, 503]) expect(statuses).toContain(status);
    expect(apiToken).toMatch(/^pxy_/);
    expect(responses.some((r) => r.statusCode >= 500)).toBe(true);
  });

  it('never puts a secret in a log line', () => {
    expect(log.lines.length).toBeGreaterThan(20);
    const leaking = log.lines.filter((line) => secretsIn(line).length > 0);
    expect(leaking).toEqual([]);
  });

  it('never puts a secret, stack trace, SQL or file system path in a response body or header', () => {
    for (const response of responses) {
      const text = `${JSON.stringify(response.headers)}\n${response.headers['content-type']?.toString().startsWith('image/') ? '' : response.body}`;
      const label = `${response.statusCode} ${response.body.slice(0, 200)}`;
      expect(secretsIn(text), label).toEqual([]);
      expect(text, label).not.toMatch(STACK);
      expect(text, label).not.toMatch(SQL);
      expect(text, label).not.toContain(dir);
      expect(text, label).not.toContain(tmpdir());
    }
  });

  it('still logs the causes of 5xx answers for the operator', () => {
    const errors = log.records().filter((r) => r['level'] === 50);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((r) => typeof r['reqId'] === 'string')).toBe(true);
  });
});
