import { afterEach, describe, expect, it } from 'vitest';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { encodedBase64 } from '../support/fake-openai-server.js';
import { createOpenAITestApp, useFakeOpenAI } from '../support/openai-test-app.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const MODELS = 'gpt-image-1.5,gpt-image-2,dall-e-3,dall-e-2';
const openai = useFakeOpenAI([[1024, 1024], [1536, 1024], [1792, 1024]]);
let t: TestApp | undefined;
let auth: string;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function startOpenAI(env: Record<string, string> = {}) {
  t = await createOpenAITestApp(openai.fake, { env: { OPENAI_IMAGE_MODELS: MODELS, ...env } });
  auth = await t.addUser('bob');
}

const create = (body: Record<string, unknown>) =>
  t!.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: { prompt: 'a red kite over dunes', ...body } });

describe('POST /image options with the OpenAI generator', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'every GPT image option',
      { model: 'gpt-image-1.5', size: '1536x1024', quality: 'low', background: 'transparent', output_format: 'webp', output_compression: 70, moderation: 'low' },
      { model: 'gpt-image-1.5', size: '1536x1024', quality: 'low', background: 'transparent', output_format: 'webp', output_compression: 70, moderation: 'low', n: 1 },
    ],
    ['a free gpt-image-2 size as jpeg', { model: 'gpt-image-2', size: '1536x864', output_format: 'jpeg' }, { model: 'gpt-image-2', size: '1536x864', output_format: 'jpeg' }],
    ['dall-e-3 style and hd', { model: 'dall-e-3', size: '1792x1024', quality: 'hd', style: 'natural' }, { model: 'dall-e-3', size: '1792x1024', quality: 'hd', style: 'natural', response_format: 'b64_json' }],
    ['the default model with no options', {}, { model: 'gpt-image-1', output_format: 'png' }],
  ])('sends %s to the provider as given', async (_case, options, sent) => {
    await startOpenAI();
    const response = await create(options);
    expect(response.statusCode, response.body).toBe(201);
    expect(openai.fake.requests).toHaveLength(1);
    expect(openai.fake.requests[0]!.body).toMatchObject({ prompt: 'a red kite over dunes', ...sent });
    // Nothing the client did not choose is sent (the provider's defaults apply), and the author's name never leaves.
    for (const key of Object.keys(openai.fake.requests[0]!.body)) {
      expect(['model', 'prompt', 'n', 'user', 'response_format', 'output_format', ...Object.keys(options)]).toContain(key);
    }
    expect(JSON.stringify(openai.fake.requests[0]!.body)).not.toContain('bob');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a model outside the allow-list', { model: 'gpt-image-1-mini' }, '/body/model'],
    ['a size dall-e-3 does not offer', { model: 'dall-e-3', size: '1024x1536' }, '/body/size'],
    ['transparent with jpeg', { background: 'transparent', output_format: 'jpeg' }, '/body/background'],
    ['compression with png', { output_format: 'png', output_compression: 50 }, '/body/output_compression'],
    ['style on a GPT image model', { style: 'vivid' }, '/body/style'],
    ['quality hd on a GPT image model', { quality: 'hd' }, '/body/quality'],
    ['output_format on dall-e-2', { model: 'dall-e-2', output_format: 'webp' }, '/body/output_format'],
    ['a prompt longer than dall-e-2 takes', { model: 'dall-e-2', prompt: 'x'.repeat(1001) }, '/body/prompt'],
    ['an unknown option value', { quality: 'ultra' }, '/body/quality'],
    ['an unknown property', { n: 2 }, '/body/n'],
  ])('refuses %s with 400 at its path and never calls the provider', async (_case, options, path) => {
    await startOpenAI();
    const body = expectProblem(await create(options), 400, 'DataValidationError');
    expect(errorPaths(body)).toContain(path);
    expect(openai.fake.requests).toHaveLength(0);
  });

  it.each([
    ['png', 'image/png', '.png', [0x89, 0x50, 0x4e, 0x47]],
    ['jpeg', 'image/jpeg', '.jpg', [0xff, 0xd8, 0xff]],
    ['webp', 'image/webp', '.webp', [0x52, 0x49, 0x46, 0x46]],
  ] as const)('stores %s bytes with their media type, extension and size, and serves them so', async (format, type, extension, magic) => {
    await startOpenAI();
    const response = await create({ output_format: format, size: '1024x1024', quality: 'medium' });
    expect(response.statusCode, response.body).toBe(201);
    const detail = response.json();
    expect(detail).toMatchObject({ content_type: type, filename: `${detail.guid}${extension}`, size: '1024x1024', output_format: format, quality: 'medium', background: 'opaque' });
    const content = await t!.app.inject({ url: `/image/${detail.guid}/content` });
    expect(content.headers['content-type']).toBe(type);
    expect([...content.rawPayload.subarray(0, magic.length)]).toEqual([...magic]);
    expect(content.rawPayload.length).toBe(detail.byte_size);
  });

  it('records the format of the bytes, not the one asked for, when the provider answers another', async () => {
    await startOpenAI();
    openai.fake.reply({ kind: 'image', format: 'png' });
    const detail = (await create({ output_format: 'webp' })).json();
    expect(detail).toMatchObject({ content_type: 'image/png', output_format: 'png' });
    expect(detail.filename).toMatch(/\.png$/);
  });

  it('answers 502 and stores nothing when the bytes are a truncated JPEG', async () => {
    await startOpenAI();
    const jpeg = Buffer.from(await encodedBase64('jpeg', 64, 64), 'base64');
    openai.fake.reply({ kind: 'raw', body: JSON.stringify({ created: 1, data: [{ b64_json: jpeg.subarray(0, jpeg.length - 20).toString('base64') }] }) });
    expectProblem(await create({ output_format: 'jpeg' }), 502, 'ImageGenerationError');
    expect((await t!.app.inject({ url: '/image' })).json()).toEqual([]);
  });
});

describe('POST /image options with the local generator', () => {
  it.each([
    ['png', 'image/png', '.png'],
    ['jpeg', 'image/jpeg', '.jpg'],
    ['webp', 'image/webp', '.webp'],
  ] as const)('renders %s at the requested size', async (format, type, extension) => {
    t = await createTestApp();
    auth = await t.addUser('bob');
    const response = await create({ size: '96x40', output_format: format });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ model: 'local', size: '96x40', content_type: type, output_format: format });
    expect(response.json().filename).toMatch(new RegExp(`\\${extension}$`));
    const content = await t.app.inject({ url: `/image/${response.json().guid}/content` });
    expect(content.headers['content-type']).toBe(type);
  });

  it('refuses a model other than local, and a size beyond its limits', async () => {
    t = await createTestApp();
    auth = await t.addUser('bob');
    expect(errorPaths(expectProblem(await create({ model: 'dall-e-3' }), 400, 'DataValidationError'))).toEqual(['/body/model']);
    expect(errorPaths(expectProblem(await create({ size: '4096x4096' }), 400, 'DataValidationError'))).toEqual(['/body/size']);
  });
});

describe('GET /image/options', () => {
  it("answers the local generator's one model and its options to anyone, without credentials", async () => {
    t = await createTestApp({ env: { IMAGE_SIZE: '384x256' } });
    const response = await t.app.inject({ url: '/image/options' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const none = { values: [], default: null };
    expect(response.json()).toEqual({
      default_model: 'local',
      models: [
        {
          model: 'local',
          max_prompt_length: 4000,
          size: {
            values: ['384x256', '256x256', '512x512', '768x768', '1024x1024', '1024x768', '768x1024'],
            default: '384x256',
            rule: 'any WIDTHxHEIGHT with both sides from 16 to 2048',
          },
          quality: none,
          background: none,
          output_format: { values: ['png', 'jpeg', 'webp'], default: 'png' },
          moderation: none,
          style: none,
          output_compression: true,
        },
      ],
    });
  });

  it('answers every model of the allow-list, the default first, each with the values its family takes', async () => {
    await startOpenAI({ IMAGE_SIZE: '1024x1536' });
    const body = (await t!.app.inject({ url: '/image/options' })).json();
    expect(body.default_model).toBe('gpt-image-1');
    expect(body.models.map((model: { model: string }) => model.model)).toEqual(['gpt-image-1', ...MODELS.split(',')]);
    const [gptImage1, , gptImage2, dallE3, dallE2] = body.models;
    // The model takes 32000 characters, POST /image at most 4000: the smaller is promised.
    expect(gptImage1).toMatchObject({ max_prompt_length: 4000, size: { values: ['1024x1024', '1536x1024', '1024x1536', 'auto'], default: '1024x1536', rule: null }, quality: { values: ['low', 'medium', 'high', 'auto'], default: null } });
    expect(gptImage2.background.values).toEqual(['opaque', 'auto']);
    expect(gptImage2.size.rule).toMatch(/divisible by 16/);
    expect(dallE3).toMatchObject({ size: { values: ['1024x1024', '1792x1024', '1024x1792'], default: null }, output_format: { values: [], default: null }, style: { values: ['vivid', 'natural'] } });
    expect(dallE2).toMatchObject({ max_prompt_length: 1000, quality: { values: ['standard'] }, output_compression: false });
  });

  it('is described in the OpenAPI document with the schema it answers', async () => {
    t = await createTestApp();
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(spec.paths['/image/options'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/GenerationOptions' });
    expect(Object.keys(spec.components.schemas.ModelOptions.properties)).toEqual([
      'model', 'max_prompt_length', 'size', 'quality', 'background', 'output_format', 'moderation', 'style', 'output_compression',
    ]);
  });
});
