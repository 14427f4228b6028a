import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageReport } from '../../src/core/models/usage.js';
import { parseUsd } from '../../src/service/generation/index.js';
import { expectProblem } from '../support/expect-problem.js';
import { createOpenAITestApp, useFakeOpenAI } from '../support/openai-test-app.js';
import type { TestApp } from '../support/test-app.js';

const openai = useFakeOpenAI([[1024, 1024], [1792, 1024]]);
let t: TestApp;
let admin: string;
let bob: string;
let carol: string;

// The fake bills a text token per 4 prompt characters and gpt-image-1's published output tokens.
// 'a red kite over dunes' is 21 characters: 6 text tokens.
const PROMPT = 'a red kite over dunes';

beforeEach(async () => {
  t = await createOpenAITestApp(openai.fake, { env: { OPENAI_IMAGE_MODELS: 'dall-e-3', OPENAI_TIMEOUT_MS: '20000' } });
  admin = await t.addUser('root', 'correct horse battery', true);
  bob = await t.addUser('bob');
  carol = await t.addUser('carol');
});
afterEach(() => t.close());

const create = (auth: string, body: Record<string, unknown> = {}) =>
  t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: { prompt: PROMPT, ...body } });

async function createThree() {
  // 6 x $5 + 4160 x $40 per 1M = $0.16643
  expect((await create(bob, { quality: 'high', size: '1024x1024' })).statusCode).toBe(201);
  // 6 x $5 + 272 x $40 per 1M = $0.01091
  expect((await create(bob, { quality: 'low', size: '1024x1024' })).statusCode).toBe(201);
  // dall-e-3 hd wide: $0.12 per image
  expect((await create(carol, { model: 'dall-e-3', quality: 'hd', size: '1792x1024' })).statusCode).toBe(201);
}

const usage = (auth: string, query = '', accept = 'application/json') =>
  t.app.inject({ url: `/usage${query}`, headers: { authorization: auth, accept } });

/** The CSV answer as objects keyed by its header line. */
function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trimEnd().split('\r\n');
  const columns = head!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i]!, cell])));
}

describe('GET /usage', () => {
  it('sums images, tokens and cost per user against hand-computed values', async () => {
    await createThree();
    const response = await usage(admin);
    expect(response.statusCode).toBe(200);
    const report = response.json<UsageReport>();
    expect(report.group_by).toBe('user');
    expect(report.rows).toEqual([
      { group: 'bob', images: 2, input_tokens: 12, input_text_tokens: 12, input_image_tokens: 0, output_tokens: 4432, output_image_tokens: 0, output_text_tokens: 0, total_tokens: 4444, cost_usd: '0.17734' },
      { group: 'carol', images: 1, input_tokens: 0, input_text_tokens: 0, input_image_tokens: 0, output_tokens: 0, output_image_tokens: 0, output_text_tokens: 0, total_tokens: 0, cost_usd: '0.12' },
    ]);
    expect(report.total).toMatchObject({ images: 3, total_tokens: 4444, cost_usd: '0.29734' });
  });

  it('groups by model and by UTC day', async () => {
    await createThree();
    const byModel = (await usage(admin, '?group_by=model')).json<UsageReport>();
    expect(byModel.rows.map((r) => [r.group, r.images, r.cost_usd])).toEqual([['dall-e-3', 1, '0.12'], ['gpt-image-1', 2, '0.17734']]);
    const byDay = (await usage(admin, '?group_by=day')).json<UsageReport>();
    expect(byDay.rows).toHaveLength(1);
    const [newest] = (await t.app.inject({ url: '/image?limit=1' })).json();
    expect(byDay.rows[0]!.group).toBe(newest.created_at.slice(0, 10));
  });

  it('shows a user who is not an admin only their own usage', async () => {
    await createThree();
    const own = (await usage(carol)).json<UsageReport>();
    expect(own.rows.map((r) => r.group)).toEqual(['carol']);
    expect(own.total.cost_usd).toBe('0.12');
  });

  it('answers CSV with the same numbers as the JSON, for Accept: text/csv', async () => {
    await createThree();
    const json = (await usage(admin)).json<UsageReport>();
    const csv = await usage(admin, '', 'text/csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['vary']).toMatch(/Accept/i);
    const rows = parseCsv(csv.body);
    expect(rows).toHaveLength(json.rows.length + 1);
    for (const [i, row] of json.rows.entries()) {
      expect(rows[i]).toEqual(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])));
    }
    expect(rows.at(-1)).toMatchObject({ group: 'total', images: '3', cost_usd: json.total.cost_usd });
  });

  it('keeps the cost of a deleted image', async () => {
    await createThree();
    const [image] = (await t.app.inject({ url: '/image?author=carol' })).json();
    expect((await t.app.inject({ method: 'DELETE', url: `/image/${image.guid}`, headers: { authorization: carol } })).statusCode).toBe(204);
    expect((await usage(admin)).json<UsageReport>().total.cost_usd).toBe('0.29734');
  });

  it('counts only [from, to) and refuses a to before from', async () => {
    await createThree();
    const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    expect((await usage(admin, `?from=${future}`)).json<UsageReport>().rows).toEqual([]);
    expectProblem(await usage(admin, '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'), 400, 'DataValidationError');
    expectProblem(await usage(admin, '?from=yesterday'), 400, 'DataValidationError');
  });

  it('needs credentials', async () => {
    expectProblem(await t.app.inject({ url: '/usage' }), 401, 'AuthenticationError');
    expectProblem(await t.app.inject({ url: '/me' }), 401, 'AuthenticationError');
  });
});

describe('GET /me', () => {
  it('shows the caller, their quotas and what they used today and this month', async () => {
    await t.context.services.metering.setQuota('bob', { imagesPerDay: 50, usdPerMonthNano: parseUsd('20')! });
    await createThree();
    const me = await t.app.inject({ url: '/me', headers: { authorization: bob } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      username: 'bob',
      admin: false,
      quotas: { images_per_day: { limit: 50, used: 2 }, usd_per_month: { limit: '20.00', used: '0.17734' } },
    });
    expect((await t.app.inject({ url: '/me', headers: { authorization: admin } })).json()).toMatchObject({
      username: 'root',
      admin: true,
      quotas: { images_per_day: { limit: null, used: 0 }, usd_per_month: { limit: null, used: '0.00' } },
    });
  });
});

describe('quotas on POST /image', () => {
  it('let exactly images_per_day of 20 concurrent creates through and refuse the rest before the provider is called', async () => {
    await t.context.services.metering.setQuota('bob', { imagesPerDay: 5, usdPerMonthNano: null });
    // Slow answers, so the creates overlap at the provider.
    openai.fake.setDefaultReply({ kind: 'image', delayMs: 150 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => create(bob, { quality: 'low', size: '1024x1024' })));
    const created = responses.filter((r) => r.statusCode === 201);
    expect(created).toHaveLength(5);
    for (const refused of responses.filter((r) => r.statusCode !== 201)) {
      const body = expectProblem(refused, 429, 'QuotaExceededError');
      expect(body.detail).toMatch(/images_per_day/);
      const retryAfter = Number(refused.headers['retry-after']);
      const untilMidnight = (Date.parse(new Date().toISOString().slice(0, 10)) + 86_400_000 - Date.now()) / 1000;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilMidnight) + 1);
    }
    expect(openai.fake.requests).toHaveLength(5);
    expect((await usage(admin)).json<UsageReport>().total.images).toBe(5);
  });

  it('never let concurrent creates spend past usd_per_month, reserving the worst case of each', async () => {
    // gpt-image-1 high reserves (21 + 100) x $5 + 6240 x $40 per 1M = $0.250205 and costs $0.16643.
    await t.context.services.metering.setQuota('bob', { imagesPerDay: null, usdPerMonthNano: parseUsd('0.5')! });
    openai.fake.setDefaultReply({ kind: 'image', delayMs: 100 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => create(bob, { quality: 'high', size: '1024x1024' })));
    const created = responses.filter((r) => r.statusCode === 201).length;
    expect(created).toBeGreaterThanOrEqual(1);
    expect(created).toBeLessThanOrEqual(2);
    for (const refused of responses.filter((r) => r.statusCode !== 201)) {
      expect(expectProblem(refused, 429, 'QuotaExceededError').detail).toMatch(/usd_per_month/);
    }
    const spent = parseUsd((await usage(admin)).json<UsageReport>().total.cost_usd)!;
    expect(spent).toBeLessThanOrEqual(parseUsd('0.5')!);
    expect(openai.fake.requests).toHaveLength(created);
  });

  it('releases the hold of a create whose generation failed', async () => {
    await t.context.services.metering.setQuota('bob', { imagesPerDay: 1, usdPerMonthNano: null });
    openai.fake.reply({ kind: 'error', status: 400, code: 'moderation_blocked', message: 'Your request was rejected by the safety system.' });
    expectProblem(await create(bob), 422, 'PromptRejectedError');
    expect((await create(bob)).statusCode).toBe(201);
    expectProblem(await create(bob), 429, 'QuotaExceededError');
  });
});
