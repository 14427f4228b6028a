import { readFile } from 'node:fs/promises';
import { ConfigurationError } from '../../core/errors.js';
import type { TokenUsage } from '../../core/models/usage.js';
import shippedPrices from './default-prices.json' with { type: 'json' };
import { familyRulesOf, parseSize, type ImageOptions } from './image-options.js';

/**
 * What images cost, and the maths. Every amount is an integer number of nano-dollars (1 USD =
 * 1,000,000,000): a price per 1M tokens with up to three decimals is a whole number of nano-dollars per
 * token, so a cost is an exact integer product and sums never round. Floating point never touches money.
 */

/** Nano-dollars per US dollar. */
export const NANO_USD_PER_USD = 1_000_000_000;

export type { TokenUsage };

type TokenKind = 'text_input' | 'image_input' | 'image_output' | 'text_output';
const QUALITIES = ['low', 'medium', 'high'] as const;
type TokenQuality = (typeof QUALITIES)[number];

/** Per-token pricing (GPT image models). Prices in nano-dollars per token. */
export interface TokenPricing {
  kind: 'tokens';
  perToken: { text_input: number; image_input: number; image_output: number; text_output: number | null };
  /** The most image output tokens one image of each quality takes, at the model's largest size. */
  maxOutputTokens: Record<TokenQuality, number>;
}

/** Per-image pricing (DALL-E): nano-dollars by quality, then by WIDTHxHEIGHT. */
export interface ImagePricing {
  kind: 'image';
  perImage: Record<string, Record<string, number>>;
}

export interface PriceTable {
  /** The day the prices were read from their source (YYYY-MM-DD). */
  asOf: string;
  source: string;
  models: ReadonlyMap<string, TokenPricing | ImagePricing>;
}

/**
 * Text tokens allowed on top of the prompt's UTF-8 length in the worst case. A byte-level BPE token
 * covers at least one byte, so the prompt's byte count bounds its tokens; the allowance covers what the
 * provider wraps around it.
 */
export const PROMPT_TOKEN_ALLOWANCE = 100;

const DECIMAL = /^(0|[1-9][0-9]{0,5})(?:\.([0-9]{1,9}))?$/;

/** "0.040" -> 40,000,000 at scale 9; exact, or undefined when the text has more decimals than the scale. */
function decimalToInteger(text: unknown, scale: number): number | undefined {
  if (typeof text !== 'string') return undefined;
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > scale) return undefined;
  return Number(match[1]) * 10 ** scale + Number(fraction.padEnd(scale, '0') || '0');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a price table document (the shipped default or `PRICES_FILE`) and converts it to nano-dollars.
 * Prices are decimal strings in USD: per 1M tokens with at most 3 decimals, per image with at most 9.
 * @param origin named in errors, e.g. `PRICES_FILE /etc/pixyproxy/prices.json`.
 * @throws ConfigurationError naming the first bad entry.
 */
export function parsePriceTable(document: unknown, origin: string): PriceTable {
  const fail = (message: string): never => {
    throw new ConfigurationError(`${origin}: ${message}`);
  };
  if (!isRecord(document)) return fail('must be a JSON object');
  const { as_of: asOf, source, models } = document;
  if (typeof asOf !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf))) {
    fail('as_of must be a date, YYYY-MM-DD');
  }
  if (typeof source !== 'string' || source.trim() === '') fail('source must say where the prices come from');
  if (!isRecord(models)) return fail('models must be an object of model name -> prices');
  const table = new Map<string, TokenPricing | ImagePricing>();
  for (const [model, entry] of Object.entries(models)) {
    const at = `models.${model}`;
    if (!isRecord(entry)) return fail(`${at} must be an object`);
    if (entry['usd_per_million_tokens'] !== undefined) {
      const prices = entry['usd_per_million_tokens'];
      if (!isRecord(prices)) return fail(`${at}.usd_per_million_tokens must be an object`);
      // USD per 1M tokens x 1e9 nano / 1e6 tokens = x 1000 nano-dollars per token: scale 3.
      const price = (kind: TokenKind, required: boolean): number | null => {
        if (prices[kind] === undefined && !required) return null;
        return decimalToInteger(prices[kind], 3) ?? fail(`${at}.usd_per_million_tokens.${kind} must be a decimal string with at most 3 decimals, e.g. "5.00"`);
      };
      const max = entry['max_output_tokens'];
      if (!isRecord(max)) return fail(`${at}.max_output_tokens must give low, medium and high`);
      const maxOutputTokens = {} as Record<TokenQuality, number>;
      for (const quality of QUALITIES) {
        const value = max[quality];
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
          fail(`${at}.max_output_tokens.${quality} must be an integer from 1 to 1000000`);
        }
        maxOutputTokens[quality] = value as number;
      }
      table.set(model, {
        kind: 'tokens',
        perToken: {
          text_input: price('text_input', true)!,
          image_input: price('image_input', true)!,
          image_output: price('image_output', true)!,
          text_output: price('text_output', false),
        },
        maxOutputTokens,
      });
    } else if (entry['usd_per_image'] !== undefined) {
      const byQuality = entry['usd_per_image'];
      if (!isRecord(byQuality) || Object.keys(byQuality).length === 0) return fail(`${at}.usd_per_image must map quality -> size -> price`);
      const perImage: Record<string, Record<string, number>> = {};
      for (const [quality, bySize] of Object.entries(byQuality)) {
        if (!isRecord(bySize) || Object.keys(bySize).length === 0) return fail(`${at}.usd_per_image.${quality} must map size -> price`);
        perImage[quality] = {};
        for (const [size, text] of Object.entries(bySize)) {
          if (parseSize(size) === undefined) fail(`${at}.usd_per_image.${quality}: "${size}" is not WIDTHxHEIGHT`);
          perImage[quality]![size] = decimalToInteger(text, 9) ?? fail(`${at}.usd_per_image.${quality}.${size} must be a decimal string, e.g. "0.040"`);
        }
      }
      table.set(model, { kind: 'image', perImage });
    } else {
      fail(`${at} needs usd_per_million_tokens (GPT image models) or usd_per_image (DALL-E)`);
    }
  }
  return { asOf: asOf as string, source: source as string, models: table };
}

/** The shipped default table (dated; see `as_of` and `source` in default-prices.json). */
export function shippedPriceTable(): PriceTable {
  return parsePriceTable(shippedPrices, 'the shipped price table');
}

/**
 * `PRICES_FILE` when set, else the shipped table. Read once at start-up.
 * @throws ConfigurationError when the file cannot be read, is not JSON, or fails `parsePriceTable`.
 */
export async function loadPriceTable(file: string | undefined): Promise<PriceTable> {
  if (file === undefined) return shippedPriceTable();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`PRICES_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`PRICES_FILE ${file} is not valid JSON`);
  }
  return parsePriceTable(document, `PRICES_FILE ${file}`);
}

/**
 * Start-up check: every model clients may choose has a price (`local` is free), so no image is ever
 * created without a cost. @throws ConfigurationError naming the first model without one.
 */
export function assertPriced(table: PriceTable, models: readonly string[]): void {
  for (const model of models) {
    if (model === 'local') continue;
    const pricing = table.models.get(model);
    if (pricing === undefined) throw new ConfigurationError(`the price table has no prices for model "${model}"`);
    const family = familyRulesOf(model);
    const perToken = family !== undefined && family.name.startsWith('gpt-image');
    if (perToken !== (pricing.kind === 'tokens')) {
      throw new ConfigurationError(`the price table prices "${model}" ${perToken ? 'per image; it is billed per token' : 'per token; it is billed per image'}`);
    }
  }
}

/** What a finished generation reports, as far as cost is concerned. */
export interface BillableImage {
  model: string;
  /** WIDTHxHEIGHT of the image as delivered. */
  size: string;
  /** The quality the provider reports, else the requested one; undefined when neither says. */
  quality: string | undefined;
  usage: TokenUsage | null;
}

function perImagePrice(pricing: ImagePricing, quality: string | undefined, size: string | undefined): number {
  const qualities = quality !== undefined && pricing.perImage[quality] ? [quality] : Object.keys(pricing.perImage);
  let worst = 0;
  for (const q of qualities) {
    const bySize = pricing.perImage[q]!;
    const sizes = size !== undefined && bySize[size] !== undefined ? [size] : Object.keys(bySize);
    for (const s of sizes) worst = Math.max(worst, bySize[s]!);
  }
  return worst;
}

/**
 * The cost of a created image in nano-dollars, from the table in force at creation time.
 * - GPT image models: text input x text_input + image input x image_input + image output x image_output
 *   + text output x text_output (image_output when the table has no text_output). Without an input
 *   split, all input tokens count as text (a generation sends no image); without an output split, all
 *   output tokens count as image tokens. Without any `usage`, the worst case of the quality.
 * - DALL-E: the per-image price of the quality (dall-e-3 and dall-e-2 default to `standard`) and size;
 *   an unknown pair costs the most expensive price the model has.
 * - `local`: 0.
 * @throws ConfigurationError when the model has no price (start-up's assertPriced prevents it).
 */
export function costOf(table: PriceTable, image: BillableImage): number {
  if (image.model === 'local') return 0;
  const pricing = table.models.get(image.model);
  if (pricing === undefined) throw new ConfigurationError(`the price table has no prices for model "${image.model}"`);
  if (pricing.kind === 'image') return perImagePrice(pricing, image.quality ?? 'standard', image.size);
  const { usage } = image;
  const price = pricing.perToken;
  if (usage === null) return worstOutputTokens(pricing, image.quality) * price.image_output;
  const inputImage = usage.input_image_tokens ?? 0;
  const inputText = usage.input_text_tokens ?? usage.input_tokens - inputImage;
  const outputText = usage.output_text_tokens ?? 0;
  const outputImage = usage.output_image_tokens ?? usage.output_tokens - outputText;
  return (
    inputText * price.text_input +
    inputImage * price.image_input +
    outputImage * price.image_output +
    outputText * (price.text_output ?? price.image_output)
  );
}

function worstOutputTokens(pricing: TokenPricing, quality: string | undefined): number {
  if (quality === 'low' || quality === 'medium' || quality === 'high') return pricing.maxOutputTokens[quality];
  return Math.max(...QUALITIES.map((q) => pricing.maxOutputTokens[q]));
}

/**
 * The most one image with these options can cost, in nano-dollars: what a quota reserves before the
 * provider is called. GPT image models: (UTF-8 bytes of the prompt + PROMPT_TOKEN_ALLOWANCE) text
 * tokens plus the quality's `max_output_tokens` (the highest quality's for `auto` or none). DALL-E:
 * the price of the quality and size, the dearest one for any the request leaves open. `local`: 0.
 */
export function worstCaseCostOf(table: PriceTable, options: ImageOptions, prompt: string): number {
  if (options.model === 'local') return 0;
  const pricing = table.models.get(options.model);
  if (pricing === undefined) throw new ConfigurationError(`the price table has no prices for model "${options.model}"`);
  if (pricing.kind === 'image') {
    const size = options.size === 'auto' ? undefined : options.size;
    return perImagePrice(pricing, options.quality, size);
  }
  const textTokens = Buffer.byteLength(prompt, 'utf8') + PROMPT_TOKEN_ALLOWANCE;
  const outputTokens = worstOutputTokens(pricing, options.quality);
  return textTokens * pricing.perToken.text_input + outputTokens * pricing.perToken.image_output;
}

/** Nano-dollars as a decimal USD string, exact, with at least two decimals: 166_400_000 -> "0.1664". */
export function formatUsd(nanoUsd: number | bigint): string {
  const value = BigInt(nanoUsd);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const whole = abs / BigInt(NANO_USD_PER_USD);
  const fraction = (abs % BigInt(NANO_USD_PER_USD)).toString().padStart(9, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${whole}.${fraction}`;
}

/** "20" or "0.5" USD (at most 9 decimals) as nano-dollars; undefined when it is not such a number. */
export function parseUsd(text: string): number | undefined {
  return decimalToInteger(text, 9);
}
