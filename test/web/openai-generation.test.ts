import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/cli/logger.js';
import { makeImageInput, PNG_SIGNATURE } from '../support/factories.js';
import { FakeOpenAIServer, pngBase64, type FakeReply } from '../support/fake-openai-server.js';
import { createOpenAITestApp, TEST_OPENAI_KEY, useFakeOpenAI, type OpenAITestAppOptions } from '../support/openai-test-app.js';
import type { TestApp } from '../support/test-app.js';

const openai = useFakeOpenAI([[1024, 1024], [1792, 1024], [1536, 1024]]);
let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(options: OpenAITestAppOptions = {}) {
  t = await createOpenAITestApp(openai.fake, options);
  return { t, auth: await t.addUser() };
}

async function create(auth: string, body: unknown = makeImageInput()) {
  return t!.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: body as object });
}

/** Files in the image directory, temp files included; none when the directory was never made. */
async function storedFiles(): Promise<string[]> {
  try {
    return await readdir(t!.context.config.imageDir);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

async function expectNothingStored() {
  const listing = await t!.app.inject({ url: '/image' });
  expect(listing.json()).toEqual([]);
  expect(await storedFiles()).toEqual([]);
}

const fastRetry = { 'retry-after-ms': '10' };

describe('POST /image with the OpenAI generator: each model family', () => {
  it('generates with gpt-image-1 without response_format and records model and size', async () => {
    const { auth } = await start({ env: { IMAGE_SIZE: '1024x1024' } });
    const response = await create(auth, makeImageInput({ prompt: 'a red kite over dunes' }));

    expect(response.statusCode).toBe(201);
    expect(openai.fake.requests).toHaveLength(1);
    const sent = openai.fake.requests[0]!;
    expect(sent.headers.authorization).toBe(`Bearer ${TEST_OPENAI_KEY}`);
    expect(sent.body).toEqual({ model: 'gpt-image-1', prompt: 'a red kite over dunes', n: 1, output_format: 'png', size: '1024x1024', user: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(response.json()).toMatchObject({ model: 'gpt-image-1', size: '1024x1024', revised_prompt: null, content_type: 'image/png' });

    const content = await t!.app.inject({ url: `/image/${response.json().guid}/content` });
    expect(content.rawPayload).toEqual(Buffer.from(pngBase64(1024, 1024), 'base64'));
  });

  it('generates with dall-e-3 asking for base64 and keeps its revised prompt', async () => {
    const { auth } = await start({ env: { OPENAI_IMAGE_MODEL: 'dall-e-3', IMAGE_SIZE: '1792x1024' } });
    openai.fake.reply({ kind: 'image', revisedPrompt: 'A red kite soaring over golden sand dunes at sunset' });
    const response = await create(auth, makeImageInput({ prompt: 'a red kite over dunes' }));

    expect(response.statusCode).toBe(201);
    expect(openai.fake.requests[0]!.body).toEqual({ model: 'dall-e-3', prompt: 'a red kite over dunes', n: 1, response_format: 'b64_json', size: '1792x1024', user: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const detail = response.json();
    expect(detail).toMatchObject({ model: 'dall-e-3', size: '1792x1024', revised_prompt: 'A red kite soaring over golden sand dunes at sunset' });
    const stored = await t!.app.inject({ url: `/image/${detail.guid}` });
    expect(stored.json()).toMatchObject({ model: 'dall-e-3', size: '1792x1024', revised_prompt: detail.revised_prompt });
  });

  it('stores a revised prompt with a lone surrogate with one U+FFFD in its place, as it answers it', async () => {
    const { auth } = await start({ env: { OPENAI_IMAGE_MODEL: 'dall-e-3', IMAGE_SIZE: '1792x1024' } });
    openai.fake.reply({ kind: 'image', revisedPrompt: 'a kite \ud800 over dunes' });
    const detail = (await create(auth, makeImageInput())).json();
    expect(detail.revised_prompt).toBe('a kite \ufffd over dunes');
    expect((await t!.app.inject({ url: `/image/${detail.guid}` })).json().revised_prompt).toBe('a kite \ufffd over dunes');
  });

  it('generates with dall-e-2 at 256x256 asking for base64', async () => {
    const { auth } = await start({ env: { OPENAI_IMAGE_MODEL: 'dall-e-2', IMAGE_SIZE: '256x256' } });
    const response = await create(auth);

    expect(response.statusCode).toBe(201);
    expect(openai.fake.requests[0]!.body).toMatchObject({ model: 'dall-e-2', n: 1, response_format: 'b64_json', size: '256x256' });
    expect(response.json()).toMatchObject({ model: 'dall-e-2', size: '256x256', revised_prompt: null });
    const content = await t!.app.inject({ url: `/image/${response.json().guid}/content` });
    expect(content.rawPayload.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('records the size the provider actually returned when IMAGE_SIZE is unset', async () => {
    const { auth } = await start();
    openai.fake.reply({ kind: 'image', width: 1536, height: 1024 });
    const response = await create(auth);

    expect(response.statusCode).toBe(201);
    expect(openai.fake.requests[0]!.body).not.toHaveProperty('size');
    expect(response.json().size).toBe('1536x1024');
  });

  it('answers 400 without calling the provider when the prompt is too long for dall-e-2', async () => {
    const { auth } = await start({ env: { OPENAI_IMAGE_MODEL: 'dall-e-2' } });
    const response = await create(auth, { prompt: 'x'.repeat(1001) });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'DataValidationError', errors: [{ path: '/body/prompt' }] });
    expect(openai.fake.requests).toHaveLength(0);
    await expectNothingStored();
  });
});

describe('POST /image with the OpenAI generator: provider failures', () => {
  it.each([
    ['dall-e-3', { type: 'invalid_request_error', code: 'content_policy_violation', message: 'Your request was rejected as a result of our safety system.' }],
    ['gpt-image-1', { type: 'image_generation_user_error', code: 'moderation_blocked', message: 'Your request was rejected by the safety system.' }],
  ])('answers 422 PromptRejectedError with the provider message when %s refuses the prompt', async (model, error) => {
    const { auth } = await start({ env: { OPENAI_IMAGE_MODEL: model } });
    openai.fake.reply({ kind: 'error', status: 400, ...error });
    const response = await create(auth);

    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 422, error: 'PromptRejectedError', detail: error.message });
    expect(openai.fake.requests).toHaveLength(1);
    await expectNothingStored();
  });

  it('retries a 429 and answers 201 when the retry succeeds', async () => {
    const { auth } = await start();
    openai.fake.reply({ kind: 'error', status: 429, type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached', headers: fastRetry });
    const response = await create(auth);

    expect(response.statusCode).toBe(201);
    expect(openai.fake.requests).toHaveLength(2);
    const listing = await t!.app.inject({ url: '/image' });
    expect(listing.json()).toHaveLength(1);
  });

  it('answers 503 with the provider Retry-After once 429 retries are exhausted', async () => {
    const { auth } = await start({ env: { OPENAI_MAX_RETRIES: '2' } });
    const busy: FakeReply = { kind: 'error', status: 429, code: 'rate_limit_exceeded', headers: { ...fastRetry, 'retry-after': '7' } };
    openai.fake.setDefaultReply(busy);
    const response = await create(auth);

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.json()).toMatchObject({ status: 503, error: 'ServiceUnavailableError' });
    expect(openai.fake.requests).toHaveLength(3);
    await expectNothingStored();
  });

  it('answers 503 at once, without waiting, when the provider asks for a wait past the deadline', async () => {
    const { auth } = await start({ env: { OPENAI_TIMEOUT_MS: '2000' } });
    openai.fake.setDefaultReply({ kind: 'error', status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '30' } });
    const response = await create(auth);

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(openai.fake.requests).toHaveLength(1);
    await expectNothingStored();
  });

  it('answers 502 without retrying when the account is out of quota', async () => {
    const { auth } = await start();
    openai.fake.setDefaultReply({ kind: 'error', status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota', headers: fastRetry });
    const response = await create(auth);

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: 'ImageGenerationError' });
    expect(response.json().detail).not.toContain('quota');
    expect(openai.fake.requests).toHaveLength(1);
    await expectNothingStored();
  });

  it('answers 503 with Retry-After when the provider stays overloaded', async () => {
    const { auth } = await start();
    openai.fake.setDefaultReply({ kind: 'error', status: 503, message: 'The engine is currently overloaded', headers: { ...fastRetry, 'retry-after': '3' } });
    const response = await create(auth);

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('3');
    expect(openai.fake.requests).toHaveLength(3);
    await expectNothingStored();
  });

  it('answers 502 with a generic detail after retrying a provider 500', async () => {
    const { auth } = await start();
    openai.fake.setDefaultReply({ kind: 'error', status: 500, message: 'internal shard db-7 exploded', headers: fastRetry });
    const response = await create(auth);

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ status: 502, error: 'ImageGenerationError' });
    expect(response.body).not.toContain('shard');
    expect(openai.fake.requests).toHaveLength(3);
    await expectNothingStored();
  });

  it('answers 504 when the provider is slower than OPENAI_TIMEOUT_MS, without repeating the call', async () => {
    const { auth } = await start({ env: { OPENAI_TIMEOUT_MS: '300' } });
    openai.fake.setDefaultReply({ kind: 'image', delayMs: 1500 });
    const started = Date.now();
    const response = await create(auth);

    expect(response.statusCode).toBe(504);
    expect(response.json()).toMatchObject({ status: 504, error: 'GenerationTimeoutError' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(openai.fake.requests).toHaveLength(1);
    await expectNothingStored();
  });

  it.each<[string, FakeReply]>([
    ['malformed JSON', { kind: 'raw', body: '{"created": 1, "data": [' }],
    ['a body that is not JSON', { kind: 'raw', body: '<html>gateway</html>', contentType: 'text/html' }],
    ['no data', { kind: 'raw', body: '{"created": 1}' }],
    ['an empty data array', { kind: 'raw', body: '{"created": 1, "data": []}' }],
    ['a URL instead of base64', { kind: 'raw', body: '{"created": 1, "data": [{"url": "https://example.invalid/a.png"}]}' }],
    ['b64_json that is not base64', { kind: 'raw', body: '{"created": 1, "data": [{"b64_json": "not base64!"}]}' }],
    ['base64 that is not an image', { kind: 'raw', body: JSON.stringify({ created: 1, data: [{ b64_json: Buffer.from('hello, world').toString('base64') }] }) }],
    ['a truncated PNG', { kind: 'raw', body: JSON.stringify({ created: 1, data: [{ b64_json: Buffer.from(pngBase64(32, 32), 'base64').subarray(0, 60).toString('base64') }] }) }],
  ])('answers 502 ImageGenerationError for %s', async (_case, reply) => {
    const { auth } = await start();
    openai.fake.reply(reply);
    const response = await create(auth);

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ status: 502, error: 'ImageGenerationError' });
    await expectNothingStored();
  });

  it('answers 502 for a rejected key, never showing the key, and does not retry', async () => {
    const wrongKey = 'sk-wrong-0d1e2f3a4b5c6d7e8f9a0b1c';
    const { auth } = await start({ env: { OPENAI_API_KEY: wrongKey } });
    const response = await create(auth);

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: 'ImageGenerationError', detail: 'The image provider failed to generate the image' });
    expect(response.body).not.toContain(wrongKey);
    expect(response.body).not.toContain(wrongKey.slice(-4));
    expect(openai.fake.requests).toHaveLength(1);
    await expectNothingStored();
  });

  it('answers 502 when the provider cannot be reached', async () => {
    const closed = await FakeOpenAIServer.start();
    const url = closed.url;
    await closed.close();
    const { auth } = await start({ env: { OPENAI_BASE_URL: url, OPENAI_MAX_RETRIES: '0' } });
    const response = await create(auth);

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: 'ImageGenerationError', detail: 'The image provider could not be reached' });
    await expectNothingStored();
  });
});

describe('the OpenAI key stays secret', () => {
  it('never appears in log lines or response bodies, whether the key is accepted or rejected', async () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'debug', logPretty: false }, { write: (line: string) => void lines.push(line) });
    const bodies: string[] = [];

    const good = await start({ logger });
    bodies.push((await create(good.auth)).body);
    openai.fake.reply({ kind: 'error', status: 500, message: 'upstream failure', headers: fastRetry }, { kind: 'error', status: 401, code: 'invalid_api_key', message: `Incorrect API key provided: ${TEST_OPENAI_KEY}` });
    bodies.push((await create(good.auth)).body);
    await t!.close();

    const wrongKey = 'sk-rejected-9a8b7c6d5e4f3a2b1c0d';
    const bad = await start({ logger, env: { OPENAI_API_KEY: wrongKey } });
    bodies.push((await create(bad.auth)).body);

    expect(bodies.map((body) => JSON.parse(body).status ?? 201)).toEqual([201, 502, 502]);
    expect(lines.some((line) => line.includes('ImageGenerationError'))).toBe(true);
    for (const text of [...lines, ...bodies]) {
      expect(text).not.toContain(TEST_OPENAI_KEY);
      expect(text).not.toContain(wrongKey);
    }
  });
});
