import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../src/core/errors.js';
import { resolveImageOptions } from '../../../src/service/generation/image-options.js';
import {
  assertPriced,
  costOf,
  formatUsd,
  loadPriceTable,
  parsePriceTable,
  shippedPriceTable,
  worstCaseCostOf,
  type BillableImage,
  type TokenUsage,
} from '../../../src/service/generation/price-table.js';

const table = shippedPriceTable();

function usage(fields: Partial<TokenUsage> & Pick<TokenUsage, 'input_tokens' | 'output_tokens'>): TokenUsage {
  return {
    total_tokens: fields.input_tokens + fields.output_tokens,
    input_text_tokens: null,
    input_image_tokens: null,
    output_text_tokens: null,
    output_image_tokens: null,
    ...fields,
  };
}

describe('costOf, against hand-computed values from the shipped table', () => {
  // Token prices are USD per 1M tokens, i.e. x 1000 nano-dollars per token.
  it.each<[string, BillableImage, string]>([
    // 12 x $5/1M + 4160 x $40/1M = 0.00006 + 0.1664
    ['gpt-image-1, high 1024x1024', { model: 'gpt-image-1', size: '1024x1024', quality: 'high', usage: usage({ input_tokens: 12, output_tokens: 4160, input_text_tokens: 12, input_image_tokens: 0 }) }, '0.16646'],
    // no split given: all input counts as text, all output as image. 25 x 5 + 272 x 40 (micro-dollars)
    ['gpt-image-1 without a split', { model: 'gpt-image-1', size: '1024x1024', quality: 'low', usage: usage({ input_tokens: 25, output_tokens: 272 }) }, '0.011005'],
    // 40 x $5 + 323 x $10 + 1584 x $40, per 1M
    ['gpt-image-1 with image input tokens', { model: 'gpt-image-1', size: '1024x1024', quality: 'medium', usage: usage({ input_tokens: 363, output_tokens: 1584, input_text_tokens: 40, input_image_tokens: 323 }) }, '0.06679'],
    // 50 x $2 + 1056 x $8, per 1M
    ['gpt-image-1-mini', { model: 'gpt-image-1-mini', size: '1024x1024', quality: 'medium', usage: usage({ input_tokens: 50, output_tokens: 1056 }) }, '0.008548'],
    // 30 x $5 + 4160 x $32 + 20 text output x $10, per 1M
    ['gpt-image-1.5 with text output tokens', { model: 'gpt-image-1.5', size: '1024x1024', quality: 'high', usage: usage({ input_tokens: 30, output_tokens: 4180, input_text_tokens: 30, input_image_tokens: 0, output_text_tokens: 20, output_image_tokens: 4160 }) }, '0.13347'],
    // 10 x $5 + 7024 x $30, per 1M
    ['gpt-image-2', { model: 'gpt-image-2', size: '1024x1024', quality: 'high', usage: usage({ input_tokens: 10, output_tokens: 7024 }) }, '0.21077'],
    ['dall-e-3 hd 1792x1024', { model: 'dall-e-3', size: '1792x1024', quality: 'hd', usage: null }, '0.12'],
    ['dall-e-3 with no quality reported (standard)', { model: 'dall-e-3', size: '1024x1024', quality: undefined, usage: null }, '0.04'],
    ['dall-e-2 512x512', { model: 'dall-e-2', size: '512x512', quality: undefined, usage: null }, '0.018'],
    ['the local generator', { model: 'local', size: '512x512', quality: undefined, usage: null }, '0.00'],
  ])('%s costs $%s', (_case, image, usd) => {
    expect(formatUsd(costOf(table, image))).toBe(usd);
  });

  it('sums exactly where floating point would not: ten dall-e-2 256x256 images are $0.16', () => {
    const one = costOf(table, { model: 'dall-e-2', size: '256x256', quality: undefined, usage: null });
    expect(formatUsd(Array.from({ length: 10 }, () => one).reduce((a, b) => a + b, 0))).toBe('0.16');
    expect(Array.from({ length: 10 }, () => 0.016).reduce((a, b) => a + b, 0)).not.toBe(0.16);
  });
});

describe('worstCaseCostOf', () => {
  const policy = { defaultModel: 'gpt-image-1', allowedModels: ['gpt-image-1', 'dall-e-3', 'local'] };
  const options = (input: Parameters<typeof resolveImageOptions>[0]) => resolveImageOptions(input, 'a cat', policy);

  it.each<[string, Parameters<typeof resolveImageOptions>[0], string, string]>([
    // (5 prompt bytes + 100) x $5 + 6240 x $40, per 1M
    ['gpt-image-1 high', { quality: 'high' }, 'a cat', '0.250125'],
    ['gpt-image-1 with no quality (the highest)', {}, 'a cat', '0.250125'],
    // (2 bytes for "é" + 100) x $5 + 408 x $40, per 1M
    ['gpt-image-1 low, counting UTF-8 bytes', { quality: 'low' }, 'é', '0.01683'],
    ['dall-e-3 with nothing chosen (hd, wide)', { model: 'dall-e-3' }, 'a cat', '0.12'],
    ['dall-e-3 standard square', { model: 'dall-e-3', quality: 'standard', size: '1024x1024' }, 'a cat', '0.04'],
    ['local', { model: 'local' }, 'a cat', '0.00'],
  ])('%s reserves $%s', (_case, input, prompt, usd) => {
    expect(formatUsd(worstCaseCostOf(table, resolveImageOptions(input, prompt, policy), prompt))).toBe(usd);
  });

  it('is never below the real cost of the same options', () => {
    const real = costOf(table, { model: 'gpt-image-1', size: '1024x1536', quality: 'high', usage: usage({ input_tokens: 105, output_tokens: 6240 }) });
    expect(worstCaseCostOf(table, options({ quality: 'high' }), 'a cat')).toBeGreaterThanOrEqual(real);
  });
});

describe('price table documents', () => {
  const dir = mkdtemp(join(tmpdir(), 'pixyproxy-prices-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('ships a dated table with a source', () => {
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.source).toMatch(/https:\/\//);
  });

  it('loads PRICES_FILE in place of the shipped table', async () => {
    const file = join(await dir, 'prices.json');
    await writeFile(file, JSON.stringify({ as_of: '2027-01-01', source: 'our contract', models: { 'dall-e-2': { usd_per_image: { standard: { '256x256': '0.001' } } } } }));
    const loaded = await loadPriceTable(file);
    expect(formatUsd(costOf(loaded, { model: 'dall-e-2', size: '256x256', quality: undefined, usage: null }))).toBe('0.001');
    expect(() => assertPriced(loaded, ['gpt-image-1'])).toThrow(/no prices for model "gpt-image-1"/);
  });

  it.each<[string, unknown, RegExp]>([
    ['no date', { source: 's', models: {} }, /as_of/],
    ['no source', { as_of: '2026-12-01', models: {} }, /source/],
    ['a float price', { as_of: '2026-12-01', source: 's', models: { m: { usd_per_image: { standard: { '1x1': 0.04 } } } } }, /decimal string/],
    ['too many decimals per 1M tokens', { as_of: '2026-12-01', source: 's', models: { m: { usd_per_million_tokens: { text_input: '5.0001', image_input: '1', image_output: '1' }, max_output_tokens: { low: 1, medium: 1, high: 1 } } } }, /at most 3 decimals/],
    ['no worst-case token counts', { as_of: '2026-12-01', source: 's', models: { m: { usd_per_million_tokens: { text_input: '5', image_input: '1', image_output: '1' } } } }, /max_output_tokens/],
  ])('refuses a table with %s, naming the entry', (_case, document, message) => {
    expect(() => parsePriceTable(document, 'PRICES_FILE x')).toThrow(ConfigurationError);
    expect(() => parsePriceTable(document, 'PRICES_FILE x')).toThrow(message);
  });

  it('refuses a PRICES_FILE that is not JSON', async () => {
    const file = join(await dir, 'broken.json');
    await writeFile(file, '{ nope');
    await expect(loadPriceTable(file)).rejects.toThrow(/not valid JSON/);
  });

  it('prices every model the option rules know', () => {
    expect(() => assertPriced(table, ['gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', 'chatgpt-image-latest', 'gpt-image-2', 'dall-e-3', 'dall-e-2', 'local'])).not.toThrow();
  });
});
