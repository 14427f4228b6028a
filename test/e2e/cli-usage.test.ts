import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-process.js';
import { FakeOpenAIServer } from '../support/fake-openai-server.js';
import { createOpenAITestApp, TEST_OPENAI_KEY } from '../support/openai-test-app.js';
import type { TestApp } from '../support/test-app.js';

// A child process that loads the TypeScript sources: generous, because CI machines are busy.
const PROCESS_TEST_TIMEOUT_MS = 120_000;

let fake: FakeOpenAIServer;
let t: TestApp;

beforeAll(async () => {
  fake = await FakeOpenAIServer.start({ apiKey: TEST_OPENAI_KEY });
  t = await createOpenAITestApp(fake, { env: { OPENAI_IMAGE_MODELS: 'dall-e-3,gpt-image-1-mini' } });
  const bob = await t.addUser('bob');
  const carol = await t.addUser('carol');
  const create = (auth: string, body: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: { prompt: 'a red kite over dunes', ...body } });
  for (const [auth, body] of [
    [bob, { quality: 'high', size: '1024x1024' }],
    [bob, { model: 'gpt-image-1-mini', quality: 'medium', size: '1024x1024', output_format: 'webp' }],
    [carol, { model: 'dall-e-3', quality: 'hd', size: '1792x1024' }],
    [carol, { quality: 'low', size: '1024x1024', output_format: 'jpeg' }],
  ] as const) {
    const response = await create(auth, body);
    if (response.statusCode !== 201) throw new Error(response.body);
  }
}, PROCESS_TEST_TIMEOUT_MS);
afterAll(async () => {
  await t.close();
  await fake.close();
});

/** The CLI on the test app's own SQLite database, as an operator would run it beside the server. */
const cli = (...args: string[]) => runCli(args, { DATA_DIR: t.dir });

describe('pixyproxy usage', () => {
  it('prints the ledger per user with the same totals as GET /usage', async () => {
    const result = await cli('usage', '--group-by', 'user');
    expect(result.code, result.stderr).toBe(0);
    // Printed for the record: the table an operator sees.
    console.log(result.stdout);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^user\s+images\s+input tokens/);
    // bob: 6 x $5 + 4160 x $40 (gpt-image-1) + 6 x $2 + 1056 x $8 (mini), per 1M = 0.16643 + 0.008460
    expect(lines.find((line) => line.startsWith('bob'))).toMatch(/^bob\s+2\s+12\s+12\s+0\s+5216\s+5228\s+0\.17489$/);
    // carol: $0.12 (dall-e-3 hd wide) + 6 x $5 + 272 x $40 per 1M = 0.12 + 0.01091
    expect(lines.find((line) => line.startsWith('carol'))).toMatch(/\s0\.13091$/);
    expect(lines.at(-1)).toMatch(/^total\s+4\s.*\s0\.3058$/);
  }, PROCESS_TEST_TIMEOUT_MS);

  it('refuses an unknown grouping with exit code 2', async () => {
    const bad = await cli('usage', '--group-by', 'colour');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--group-by must be one of user, model, day');
  }, PROCESS_TEST_TIMEOUT_MS);
});

describe('pixyproxy user quota', () => {
  it('sets, keeps, prints and clears a user\'s quotas', async () => {
    expect((await cli('user', 'quota', 'bob', '--images-per-day', '50', '--usd-per-month', '20')).stdout).toBe('bob: images per day 50, USD per month $20.00\n');
    expect((await cli('user', 'quota', 'bob', '--usd-per-month', '7.5')).stdout).toBe('bob: images per day 50, USD per month $7.50\n');
    expect(await t.context.services.metering.quotaOf('bob')).toEqual({ imagesPerDay: 50, usdPerMonthNano: 7_500_000_000 });
    expect((await cli('user', 'quota', 'bob', '--clear')).stdout).toBe('bob: images per day none, USD per month none\n');
    expect(await t.context.services.metering.quotaOf('bob')).toEqual({ imagesPerDay: null, usdPerMonthNano: null });
  }, PROCESS_TEST_TIMEOUT_MS);

  it('fails for an unknown user', async () => {
    const unknown = await cli('user', 'quota', 'nobody', '--images-per-day', '1');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user named "nobody"');
  }, PROCESS_TEST_TIMEOUT_MS);
});
