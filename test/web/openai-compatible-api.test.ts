import OpenAI, { AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ImageGenerationError } from '../../src/core/errors.js';
import type { ImageDetail } from '../../src/core/models/image.js';
import { FakeOpenAIServer, fakeUsage } from '../support/fake-openai-server.js';
import { failingGenerator } from '../support/fakes.js';
import { createOpenAITestApp, TEST_OPENAI_KEY } from '../support/openai-test-app.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/test-app.js';

// The official SDK against a listening pixyproxy: what any OpenAI client does with a base URL and a key.
interface Served {
  t: TestApp;
  /** http://127.0.0.1:PORT/v1 */
  baseURL: string;
  /** An SDK client with alice's key; retries off, so each call is one request. */
  client: OpenAI;
}

async function serve(options: TestAppOptions = {}, app?: TestApp): Promise<Served> {
  const t = app ?? (await createTestApp(options));
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  await t.addUser('alice');
  const { token } = await t.context.services.apiKeys.create('alice');
  const baseURL = `${address}/v1`;
  return { t, baseURL, client: new OpenAI({ baseURL, apiKey: token, maxRetries: 0 }) };
}

async function storedBytes(t: TestApp, guid: string): Promise<Buffer> {
  const response = await t.app.inject({ url: `/image/${guid}/content` });
  expect(response.statusCode).toBe(200);
  return response.rawPayload;
}

const guidOf = (image: OpenAI.Images.Image) => (image as { guid?: string }).guid!;

describe('pixyproxy through the openai SDK', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(() => s.t.close());

  it('catalogues each of n=3 images as its own ImageDetail by the key user, not the body user, and answers URLs to their bytes', async () => {
    const result = await s.client.images.generate({ prompt: 'three lighthouses', n: 3, user: 'mallory' });
    expect(result.data).toHaveLength(3);
    expect(result.created).toBeCloseTo(Date.now() / 1000, -2);
    const listing = (await s.t.app.inject({ url: '/image' })).json<ImageDetail[]>();
    const origin = s.baseURL.replace(/\/v1$/, '');
    for (const image of result.data!) {
      const guid = guidOf(image);
      expect(listing.find((detail) => detail.guid === guid)).toMatchObject({ author: 'alice', prompt: 'three lighthouses' });
      expect(image.url).toBe(`${origin}/image/${guid}/content`);
      expect(image.b64_json).toBeUndefined();
      const fetched = Buffer.from(await (await fetch(image.url!)).arrayBuffer());
      expect(fetched.equals(await storedBytes(s.t, guid))).toBe(true);
    }
    expect(new Set(result.data!.map(guidOf)).size).toBe(3);
  });

  it('answers b64_json that decodes to the stored bytes', async () => {
    const result = await s.client.images.generate({ prompt: 'one lighthouse', response_format: 'b64_json' });
    const [image] = result.data!;
    expect(image!.url).toBeUndefined();
    expect(Buffer.from(image!.b64_json!, 'base64').equals(await storedBytes(s.t, guidOf(image!)))).toBe(true);
  });

  it('raises AuthenticationError for an unknown key', async () => {
    const stranger = new OpenAI({ baseURL: s.baseURL, apiKey: `pxy_${'Q'.repeat(43)}`, maxRetries: 0 });
    const error = await stranger.images.generate({ prompt: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
  });

  it('raises BadRequestError naming the field for an n out of range', async () => {
    const error = await s.client.images.generate({ prompt: 'x', n: 11 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'n', type: 'invalid_request_error' });
  });

  it('raises BadRequestError naming the field for a size the model does not offer, before generating anything', async () => {
    const before = (await s.t.app.inject({ url: '/image' })).json<ImageDetail[]>().length;
    const error = await s.client.images.generate({ prompt: 'x', size: '8x8' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'size', code: 'invalid_value' });
    expect((await s.t.app.inject({ url: '/image' })).json<ImageDetail[]>()).toHaveLength(before);
  });

  it('raises BadRequestError for an option the model does not take', async () => {
    const error = await s.client.images.generate({ prompt: 'x', output_format: 'png', output_compression: 50 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ param: 'output_compression' });
  });

  // As OpenAI refuses an unrecognised argument, and as POST /image validates: nothing is dropped or
  // converted on the way (the /v1 routes once fell back to Ajv's defaults, which did both).
  it.each([
    [{ prompt: 'x', quality_boost: true }, 'quality_boost'],
    [{ prompt: 123 }, 'prompt'],
    [{ prompt: 'x', n: '2' }, 'n'],
  ])('raises BadRequestError for %j instead of dropping or converting a field, and makes no image', async (body, param) => {
    const before = (await s.t.app.inject({ url: '/image' })).json<ImageDetail[]>().length;
    const error = await s.client.images.generate(body as unknown as OpenAI.Images.ImageGenerateParamsNonStreaming).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param, code: 'invalid_value' });
    expect((await s.t.app.inject({ url: '/image' })).json<ImageDetail[]>()).toHaveLength(before);
  });

  it('passes the options to the generator as POST /image does', async () => {
    const [image] = (await s.client.images.generate({ prompt: 'small and jpeg', size: '48x32', output_format: 'jpeg' })).data!;
    const detail = (await s.t.app.inject({ url: `/image/${guidOf(image!)}` })).json<ImageDetail>();
    expect(detail).toMatchObject({ size: '48x32', content_type: 'image/jpeg' });
  });

  it('raises BadRequestError for a model the server does not offer', async () => {
    const error = await s.client.images.generate({ prompt: 'x', model: 'dall-e-3' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ param: 'model' });
  });

  it('lists the image models in OpenAI shape', async () => {
    const models = [];
    for await (const model of s.client.models.list()) models.push(model);
    expect(models).toEqual([{ id: 'local', object: 'model', created: 0, owned_by: 'pixyproxy' }]);
  });

  it('answers an unknown /v1 path with an OpenAI error, not problem+json', async () => {
    const response = await s.t.app.inject({ url: '/v1/chat/completions', method: 'POST', headers: { authorization: `Bearer ${s.client.apiKey}` }, payload: {} });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ error: { message: 'No endpoint POST /v1/chat/completions', type: 'invalid_request_error', param: null, code: 'not_found' } });
  });
});

describe('pixyproxy configured differently, through the openai SDK', () => {
  let s: Served | undefined;
  afterEach(async () => {
    await s?.t.close();
    s = undefined;
  });

  it('builds image URLs on PUBLIC_BASE_URL when it is set', async () => {
    s = await serve({ env: { PUBLIC_BASE_URL: 'https://images.example.com/pixy/' } });
    const [image] = (await s.client.images.generate({ prompt: 'behind a proxy' })).data!;
    expect(image!.url).toBe(`https://images.example.com/pixy/image/${guidOf(image!)}/content`);
  });

  it('raises RateLimitError past the per-user create limit, with Retry-After', async () => {
    s = await serve({ env: { CREATE_RATE_LIMIT: '1' } });
    await s.client.images.generate({ prompt: 'the one allowed' });
    const error = await s.client.images.generate({ prompt: 'one too many' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(Number((error as RateLimitError).headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('does not count a request refused for its options against the create limit', async () => {
    s = await serve({ env: { CREATE_RATE_LIMIT: '1' } });
    for (let i = 0; i < 3; i++) {
      await expect(s.client.images.generate({ prompt: 'x', size: '8x8' })).rejects.toMatchObject({ status: 400, param: 'size' });
    }
    expect((await s.client.images.generate({ prompt: 'the one allowed' })).data).toHaveLength(1);
  });

  it('shares one create budget per user with POST /image: creates on either API use up the other', async () => {
    const served = await serve({ env: { CREATE_RATE_LIMIT: '2' } });
    s = served;
    const bearer = `Bearer ${served.client.apiKey}`;
    const createOnImage = () => served.t.app.inject({ method: 'POST', url: '/image', headers: { authorization: bearer }, payload: { prompt: 'on the REST API' } });
    expect((await createOnImage()).statusCode).toBe(201);
    await s.client.images.generate({ prompt: 'on the OpenAI API' });
    const error = await s.client.images.generate({ prompt: 'a third within the minute' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    const refused = await createOnImage();
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: 'TooManyRequestsError' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it("raises RateLimitError with code insufficient_quota once the user's quota is used up, and tells the SDK not to retry", async () => {
    s = await serve();
    await s.t.context.services.metering.setQuota('alice', { imagesPerDay: 2, usdPerMonthNano: null });
    await s.client.images.generate({ prompt: 'within the quota', n: 2 });
    const retrying = new OpenAI({ baseURL: s.baseURL, apiKey: s.client.apiKey, maxRetries: 2 });
    const error = await retrying.images.generate({ prompt: 'over the quota' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect((error as RateLimitError).headers?.get('x-should-retry')).toBe('false');
    expect((await s.t.app.inject({ url: '/image' })).json()).toHaveLength(2);
  });

  it('raises InternalServerError when the provider fails, and catalogues nothing', async () => {
    s = await serve({ generator: failingGenerator(new ImageGenerationError('The image provider failed')) });
    const error = await s.client.images.generate({ prompt: 'x', n: 2 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 502, type: 'server_error' });
    expect((await s.t.app.inject({ url: '/image' })).json()).toEqual([]);
  });
});

describe('pixyproxy in front of an OpenAI provider, through the openai SDK', () => {
  let fake: FakeOpenAIServer;
  let s: Served;
  beforeAll(async () => {
    fake = await FakeOpenAIServer.start({ apiKey: TEST_OPENAI_KEY });
    s = await serve({}, await createOpenAITestApp(fake, { env: { OPENAI_IMAGE_MODEL: 'gpt-image-1' } }));
  });
  afterAll(async () => {
    await s.t.close();
    await fake.close();
  });

  it("answers a GPT image model as OpenAI does (base64 by default) with the ledger's usage summed, and never forwards the body's user", async () => {
    const prompt = 'a lighthouse at dusk';
    const result = await s.client.images.generate({ model: 'gpt-image-1', prompt, n: 2, quality: 'low', size: '1024x1024', user: 'mallory' });
    expect(result.data).toHaveLength(2);
    for (const image of result.data!) {
      expect(image.url).toBeUndefined();
      expect(Buffer.from(image.b64_json!, 'base64').equals(await storedBytes(s.t, guidOf(image)))).toBe(true);
    }
    const one = fakeUsage(prompt, 'low', 1024, 1024);
    expect(result.usage).toEqual({
      input_tokens: 2 * one.input_tokens,
      output_tokens: 2 * one.output_tokens,
      total_tokens: 2 * one.total_tokens,
      input_tokens_details: { image_tokens: 0, text_tokens: 2 * one.input_tokens_details.text_tokens },
      output_tokens_details: { image_tokens: 0, text_tokens: 0 },
    });
    expect(fake.requests).toHaveLength(2);
    for (const request of fake.requests) expect(request.body['user']).not.toBe('mallory');
  });
});
