import { describe, expect, it } from 'vitest';
import { DataValidationError } from '../../../src/core/errors.js';
import { describeImageOptions, resolveImageOptions, type ImageOptionsInput, type ModelPolicy } from '../../../src/service/generation/image-options.js';

const policy: ModelPolicy = {
  defaultModel: 'gpt-image-1',
  allowedModels: ['gpt-image-1', 'gpt-image-1.5', 'gpt-image-2', 'dall-e-3', 'dall-e-2', 'local'],
};

function refusal(input: ImageOptionsInput, prompt = 'a lighthouse'): { path: string; message: string }[] {
  try {
    resolveImageOptions(input, prompt, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(DataValidationError);
    return (error as DataValidationError).errors ?? [];
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('resolveImageOptions', () => {
  it('gives the configured default model and sends nothing the client did not set', () => {
    expect(resolveImageOptions({}, 'a lighthouse', policy)).toEqual({ model: 'gpt-image-1', family: 'gpt-image' });
  });

  it.each<[string, ImageOptionsInput]>([
    ['gpt-image-1 with every GPT option', { model: 'gpt-image-1', size: '1536x1024', quality: 'high', background: 'transparent', output_format: 'webp', output_compression: 80, moderation: 'low' }],
    ['gpt-image-1.5 as jpeg, opaque', { model: 'gpt-image-1.5', size: 'auto', quality: 'low', background: 'opaque', output_format: 'jpeg', output_compression: 0 }],
    ['gpt-image-2 with a free size', { model: 'gpt-image-2', size: '1536x864', quality: 'medium', background: 'auto' }],
    ['dall-e-3 with style and hd', { model: 'dall-e-3', size: '1792x1024', quality: 'hd', style: 'natural' }],
    ['dall-e-2 with its small size', { model: 'dall-e-2', size: '256x256', quality: 'standard' }],
    ['local with any size and webp', { model: 'local', size: '300x200', output_format: 'webp', output_compression: 50 }],
  ])('accepts %s and passes every option on', (_case, input) => {
    const { family, ...options } = resolveImageOptions(input, 'a lighthouse', policy);
    expect(family).toBeTypeOf('string');
    expect(options).toEqual(input);
  });

  it.each<[string, ImageOptionsInput, string, RegExp]>([
    ['a model outside the allow-list', { model: 'gpt-image-1-mini' }, '/body/model', /must be one of "gpt-image-1"/],
    ['a size dall-e-3 does not offer', { model: 'dall-e-3', size: '512x512' }, '/body/size', /1024x1024, 1792x1024, 1024x1792/],
    ['a size gpt-image-1 does not offer', { size: '1792x1024' }, '/body/size', /must be one of/],
    ['a gpt-image-2 size not divisible by 16', { model: 'gpt-image-2', size: '1000x1000' }, '/body/size', /divisible by 16/],
    ['a gpt-image-2 size wider than 3:1', { model: 'gpt-image-2', size: '3072x1008' }, '/body/size', /aspect ratio/],
    ['a local size beyond its limits', { model: 'local', size: '4096x16' }, '/body/size', /from 16 to 2048/],
    ['transparent with jpeg', { background: 'transparent', output_format: 'jpeg' }, '/body/background', /png or webp/],
    ['transparent on gpt-image-2', { model: 'gpt-image-2', background: 'transparent' }, '/body/background', /"opaque", "auto"/],
    ['compression with png', { output_format: 'png', output_compression: 50 }, '/body/output_compression', /jpeg or webp/],
    ['compression with the default format (png)', { output_compression: 50 }, '/body/output_compression', /jpeg or webp/],
    ['compression above 100', { output_format: 'jpeg', output_compression: 101 }, '/body/output_compression', /0 to 100/],
    ['style on gpt-image-1', { style: 'vivid' }, '/body/style', /is not an option of gpt-image-1/],
    ['style on dall-e-2', { model: 'dall-e-2', style: 'vivid' }, '/body/style', /is not an option of dall-e-2/],
    ['hd on gpt-image-1', { quality: 'hd' }, '/body/quality', /"low", "medium", "high", "auto"/],
    ['high on dall-e-3', { model: 'dall-e-3', quality: 'high' }, '/body/quality', /"standard", "hd"/],
    ['output_format on dall-e-3', { model: 'dall-e-3', output_format: 'webp' }, '/body/output_format', /PNG/],
    ['moderation on dall-e-3', { model: 'dall-e-3', moderation: 'low' }, '/body/moderation', /is not an option of dall-e-3/],
    ['background on local', { model: 'local', background: 'opaque' }, '/body/background', /is not an option of local/],
  ])('refuses %s with 400 at the field path', (_case, input, path, message) => {
    const errors = refusal(input);
    expect(errors.map((e) => e.path)).toContain(path);
    expect(errors.find((e) => e.path === path)!.message).toMatch(message);
  });

  it('refuses a prompt longer than the model accepts (dall-e-2: 1000 characters)', () => {
    expect(refusal({ model: 'dall-e-2' }, 'x'.repeat(1001))).toEqual([{ path: '/body/prompt', message: expect.stringMatching(/more than 1000 characters for dall-e-2/) }]);
  });

  it('reports every refused field at once', () => {
    const paths = refusal({ model: 'dall-e-3', size: '1x1', style: 'vivid', output_format: 'jpeg', output_compression: 5 }).map((e) => e.path);
    expect(paths).toEqual(['/body/size', '/body/output_format', '/body/output_compression']);
  });

  it('names paths under the object the options came in', () => {
    try {
      resolveImageOptions({ size: '1x1' }, 'a', policy, '/body/options');
      expect.unreachable();
    } catch (error) {
      expect((error as DataValidationError).errors?.[0]?.path).toBe('/body/options/size');
    }
  });
});

describe('describeImageOptions', () => {
  const described = describeImageOptions(policy, '1536x1024');
  const options = ['size', 'quality', 'background', 'output_format', 'moderation', 'style'] as const;

  it('lists every allowed model, the default first, and gives the configured size to the default model only', () => {
    expect(described.default_model).toBe('gpt-image-1');
    expect(described.models.map((model) => model.model)).toEqual(policy.allowedModels);
    expect(described.models[0]!.size.default).toBe('1536x1024');
    expect(described.models.slice(1).map((model) => model.size.default)).toEqual([null, null, null, null, null]);
  });

  it('offers only values resolveImageOptions accepts for that model', () => {
    for (const model of described.models) {
      for (const option of options) {
        for (const value of model[option].values) {
          const input = { model: model.model, [option]: value } as ImageOptionsInput;
          expect(() => resolveImageOptions(input, 'a lighthouse', policy), `${model.model} ${option}=${value}`).not.toThrow();
        }
      }
    }
  });

  it('offers nothing for an option the family lacks, and resolveImageOptions refuses it', () => {
    const dallE3 = described.models.find((model) => model.model === 'dall-e-3')!;
    expect(dallE3.output_format).toEqual({ values: [], default: null });
    expect(dallE3.style.values).toEqual(['vivid', 'natural']);
    expect(refusal({ model: 'dall-e-3', output_format: 'png' }).map((e) => e.path)).toEqual(['/body/output_format']);
  });

  it('states the size rule of families that take any size within limits, and offers common sizes inside it', () => {
    const byName = Object.fromEntries(described.models.map((model) => [model.model, model]));
    expect(byName['dall-e-3']!.size).toEqual({ values: ['1024x1024', '1792x1024', '1024x1792'], default: null, rule: null });
    expect(byName['gpt-image-2']!.size.rule).toMatch(/divisible by 16/);
    expect(byName['local']!.size.rule).toBe('any WIDTHxHEIGHT with both sides from 16 to 2048');
    expect(byName['local']!.size.values).toContain('512x512');
  });

  it('offers a configured size outside the common ones first, so it can be chosen back', () => {
    const local = describeImageOptions({ defaultModel: 'local', allowedModels: ['local'] }, '384x256');
    expect(local.models[0]!.size.values[0]).toBe('384x256');
    expect(local.models[0]!.size.default).toBe('384x256');
    expect(local.models[0]!.output_format).toEqual({ values: ['png', 'jpeg', 'webp'], default: 'png' });
  });
});
