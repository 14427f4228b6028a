import { DataValidationError, type FieldError } from '../../core/errors.js';
import type { GenerationOptions, ModelOptions } from '../../core/models/generation-options.js';
import { PROMPT_MAX_LENGTH } from '../../core/models/image.js';

/**
 * The Images API's generation options, per model family, as data, and the one validator that checks a
 * request against them before any provider is called. Source: OpenAI API reference, "Create image"
 * (`POST /v1/images/generations`), as documented in the `openai` SDK 6.x `ImageGenerateParams`.
 */

export type OutputFormat = 'png' | 'jpeg' | 'webp';
export type Quality = 'standard' | 'hd' | 'low' | 'medium' | 'high' | 'auto';
export type Background = 'transparent' | 'opaque' | 'auto';
export type Moderation = 'low' | 'auto';
export type Style = 'vivid' | 'natural';

/** The options a client may send with a create (`POST /image`, and later the OpenAI-compatible route). */
export interface ImageOptionsInput {
  model?: string | undefined;
  size?: string | undefined;
  quality?: Quality | undefined;
  background?: Background | undefined;
  output_format?: OutputFormat | undefined;
  output_compression?: number | undefined;
  moderation?: Moderation | undefined;
  style?: Style | undefined;
}

export type FamilyName = 'local' | 'dall-e-2' | 'dall-e-3' | 'gpt-image' | 'gpt-image-2';

/**
 * The options after validation: the model to call, its family, and exactly the options the client
 * set (defaults are the provider's; nothing the client did not ask for is sent).
 */
export interface ImageOptions {
  model: string;
  family: FamilyName;
  size?: string;
  quality?: Quality;
  background?: Background;
  output_format?: OutputFormat;
  output_compression?: number;
  moderation?: Moderation;
  style?: Style;
}

/** What one family accepts. `undefined` for an option means the family has no such option. */
export interface FamilyRules {
  name: FamilyName;
  maxPromptLength: number;
  /** Why `size` is refused, or undefined when the family offers it. */
  sizeProblem: (size: string) => string | undefined;
  /** Sizes the family offers, for the docs and the worst-case cost; undefined for "any WxH within limits". */
  sizes?: readonly string[];
  /**
   * For a family without fixed `sizes`: common sizes within its limits to offer as choices
   * (`GET /image/options`), and the limits in words. Any other size the limits allow is taken too.
   */
  commonSizes?: readonly string[];
  sizeRule?: string;
  quality?: readonly Quality[];
  background?: readonly Background[];
  outputFormat?: readonly OutputFormat[];
  /** Whether `output_compression` exists (it applies to jpeg and webp only). */
  compression: boolean;
  moderation?: readonly Moderation[];
  style?: readonly Style[];
  /** The format of the bytes when the client names none. */
  defaultFormat: OutputFormat;
}

const SIZE_PATTERN = /^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$/;

/** WIDTHxHEIGHT as two integers, or undefined when `size` is not of that form. */
export function parseSize(size: string): { width: number; height: number } | undefined {
  const match = SIZE_PATTERN.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

function fixedSizes(sizes: readonly string[]) {
  return (size: string) => (sizes.includes(size) ? undefined : `must be one of ${sizes.join(', ')}`);
}

/** The local generator's limits: any WxH from 16 to 2048 per side, at most 4 megapixels. */
export const LOCAL_SIZE_LIMITS = { minSide: 16, maxSide: 2048, maxPixels: 2048 * 2048 } as const;

function localSizeProblem(size: string): string | undefined {
  const parsed = parseSize(size);
  if (parsed === undefined) return 'must look like 512x512 (WIDTHxHEIGHT)';
  const { minSide, maxSide } = LOCAL_SIZE_LIMITS;
  if (Math.min(parsed.width, parsed.height) < minSide || Math.max(parsed.width, parsed.height) > maxSide) {
    return `must have a width and height from ${minSide} to ${maxSide}`;
  }
  return undefined;
}

/** gpt-image-2 takes any WIDTHxHEIGHT within its limits (SDK `ImageGenerateParams.size`), or `auto`. */
function gptImage2SizeProblem(size: string): string | undefined {
  if (size === 'auto') return undefined;
  const parsed = parseSize(size);
  if (parsed === undefined) return 'must be auto or look like 1536x864 (WIDTHxHEIGHT)';
  const { width, height } = parsed;
  if (width % 16 !== 0 || height % 16 !== 0) return 'must have a width and height divisible by 16';
  if (width > 3 * height || height > 3 * width) return 'must have an aspect ratio between 1:3 and 3:1';
  if (Math.max(width, height) > 3840 || width * height > 3840 * 2160) return 'must be at most 3840x2160';
  return undefined;
}

const GPT_IMAGE_SIZES = ['1024x1024', '1536x1024', '1024x1536', 'auto'] as const;
const GPT_COMMON = {
  maxPromptLength: 32000,
  quality: ['low', 'medium', 'high', 'auto'],
  outputFormat: ['png', 'jpeg', 'webp'],
  compression: true,
  moderation: ['low', 'auto'],
  defaultFormat: 'png',
} as const;

/** Every family's rules. The first whose `matches` accepts a model name wins. */
export const FAMILY_RULES: ReadonlyArray<{ matches: (model: string) => boolean; rules: FamilyRules }> = [
  {
    matches: (model) => model === 'local',
    rules: {
      name: 'local',
      maxPromptLength: 4000,
      sizeProblem: localSizeProblem,
      commonSizes: ['256x256', '512x512', '768x768', '1024x1024', '1024x768', '768x1024'],
      sizeRule: `any WIDTHxHEIGHT with both sides from ${LOCAL_SIZE_LIMITS.minSide} to ${LOCAL_SIZE_LIMITS.maxSide}`,
      outputFormat: ['png', 'jpeg', 'webp'],
      compression: true,
      defaultFormat: 'png',
    },
  },
  {
    matches: (model) => model === 'dall-e-2',
    rules: {
      name: 'dall-e-2',
      maxPromptLength: 1000,
      sizes: ['256x256', '512x512', '1024x1024'],
      sizeProblem: fixedSizes(['256x256', '512x512', '1024x1024']),
      quality: ['standard'],
      compression: false,
      defaultFormat: 'png',
    },
  },
  {
    matches: (model) => model === 'dall-e-3',
    rules: {
      name: 'dall-e-3',
      maxPromptLength: 4000,
      sizes: ['1024x1024', '1792x1024', '1024x1792'],
      sizeProblem: fixedSizes(['1024x1024', '1792x1024', '1024x1792']),
      quality: ['standard', 'hd'],
      style: ['vivid', 'natural'],
      compression: false,
      defaultFormat: 'png',
    },
  },
  {
    matches: (model) => model.startsWith('gpt-image-2'),
    rules: {
      name: 'gpt-image-2',
      ...GPT_COMMON,
      sizeProblem: gptImage2SizeProblem,
      // The standard GPT image sizes, then larger ones (above 2560x1440 the SDK docs call experimental).
      commonSizes: ['auto', '1024x1024', '1536x1024', '1024x1536', '2048x2048', '2048x1152', '3840x2160', '2160x3840'],
      sizeRule: 'auto, or any WIDTHxHEIGHT with both sides divisible by 16, an aspect ratio from 1:3 to 3:1, at most 3840x2160',
      // gpt-image-2 refuses transparent backgrounds (SDK docs of `background`).
      background: ['opaque', 'auto'],
    },
  },
  {
    matches: (model) => model.startsWith('gpt-image-') || model === 'chatgpt-image-latest',
    rules: {
      name: 'gpt-image',
      ...GPT_COMMON,
      sizes: GPT_IMAGE_SIZES,
      sizeProblem: fixedSizes(GPT_IMAGE_SIZES),
      background: ['transparent', 'opaque', 'auto'],
    },
  },
];

/** The rules of a model's family, or undefined for a model pixyproxy does not know how to call. */
export function familyRulesOf(model: string): FamilyRules | undefined {
  return FAMILY_RULES.find((candidate) => candidate.matches(model))?.rules;
}

/** Which models a server lets its clients choose, and which one a request without `model` gets. */
export interface ModelPolicy {
  defaultModel: string;
  allowedModels: readonly string[];
}

function listOf(values: readonly string[]): string {
  return values.map((value) => `"${value}"`).join(', ');
}

/**
 * Checks a create's options against the chosen model's family and returns what to send. Every
 * refusal names the field's path under `at` (e.g. `/body/size`), and all of them are collected, so a
 * client fixes its request in one round. Runs before any provider call: a refused option never costs.
 * @param prompt the trimmed prompt, checked against the family's longest prompt.
 * @param at JSON Pointer of the object holding the options (`/body` for `POST /image`).
 * @throws DataValidationError (400) with `errors[{ path, message }]`.
 */
export function resolveImageOptions(input: ImageOptionsInput, prompt: string, policy: ModelPolicy, at = '/body'): ImageOptions {
  const errors: FieldError[] = [];
  const refuse = (field: string, message: string) => errors.push({ path: `${at}/${field}`, message });
  const model = input.model ?? policy.defaultModel;
  const rules = familyRulesOf(model);
  if (!policy.allowedModels.includes(model) || rules === undefined) {
    const message = `must be one of ${listOf(policy.allowedModels)}`;
    throw new DataValidationError(`${at}/model ${message}`, { errors: [{ path: `${at}/model`, message }] });
  }
  // UTF-16 code units, as the generators count it: never more lenient than the provider.
  if (prompt.length > rules.maxPromptLength) {
    refuse('prompt', `must not have more than ${rules.maxPromptLength} characters for ${model}`);
  }
  const options: ImageOptions = { model, family: rules.name };
  if (input.size !== undefined) {
    const problem = rules.sizeProblem(input.size);
    if (problem === undefined) options.size = input.size;
    else refuse('size', `${problem} for ${model}`);
  }
  const choice = <K extends 'quality' | 'background' | 'moderation' | 'style'>(field: K, allowed: readonly NonNullable<ImageOptions[K]>[] | undefined) => {
    const value = input[field];
    if (value === undefined) return;
    if (allowed === undefined) refuse(field, `is not an option of ${model}`);
    else if (!allowed.includes(value as NonNullable<ImageOptions[K]>)) refuse(field, `must be one of ${listOf(allowed)} for ${model}`);
    else options[field] = value as ImageOptions[K];
  };
  choice('quality', rules.quality);
  choice('background', rules.background);
  choice('moderation', rules.moderation);
  choice('style', rules.style);
  if (input.output_format !== undefined) {
    if (rules.outputFormat === undefined) refuse('output_format', `is not an option of ${model}, which answers with PNG`);
    else if (!rules.outputFormat.includes(input.output_format)) refuse('output_format', `must be one of ${listOf(rules.outputFormat)} for ${model}`);
    else options.output_format = input.output_format;
  }
  const format = options.output_format ?? rules.defaultFormat;
  // A transparent background needs an alpha channel: PNG or WebP (SDK docs of `background`).
  if (options.background === 'transparent' && format === 'jpeg') {
    refuse('background', 'transparent needs output_format png or webp (JPEG has no alpha channel)');
  }
  if (input.output_compression !== undefined) {
    if (!rules.compression) refuse('output_compression', `is not an option of ${model}`);
    else if (format === 'png') refuse('output_compression', 'applies only to output_format jpeg or webp (PNG is lossless)');
    else if (!Number.isInteger(input.output_compression) || input.output_compression < 0 || input.output_compression > 100) {
      refuse('output_compression', 'must be an integer from 0 to 100');
    } else options.output_compression = input.output_compression;
  }
  if (errors.length > 0) {
    // The same detail as a schema failure: each path and message, joined.
    throw new DataValidationError(errors.map((error) => `${error.path} ${error.message}`).join('; '), { errors });
  }
  return options;
}

/** The format the bytes come in for these options: the requested one, else the family's default. */
export function outputFormatOf(options: ImageOptions): OutputFormat {
  return options.output_format ?? familyRulesOf(options.model)?.defaultFormat ?? 'png';
}

function modelOptionsOf(model: string, rules: FamilyRules, defaultSize: string | undefined): ModelOptions {
  const sizes = rules.sizes ?? rules.commonSizes ?? [];
  const choice = <T extends string>(values: readonly T[] | undefined, fallback: T | null = null) => ({
    values: [...(values ?? [])],
    default: values === undefined ? null : fallback,
  });
  return {
    model,
    // POST /image's schema takes at most PROMPT_MAX_LENGTH whatever the model would: never promise more.
    max_prompt_length: Math.min(rules.maxPromptLength, PROMPT_MAX_LENGTH),
    size: {
      // The configured size first when it is not among the common ones, so it can be chosen back.
      values: defaultSize === undefined || sizes.includes(defaultSize) ? [...sizes] : [defaultSize, ...sizes],
      default: defaultSize ?? null,
      rule: rules.sizes === undefined ? (rules.sizeRule ?? null) : null,
    },
    quality: choice(rules.quality),
    background: choice(rules.background),
    // pixyproxy asks for the family's default format when the client names none.
    output_format: choice(rules.outputFormat, rules.defaultFormat),
    moderation: choice(rules.moderation),
    style: choice(rules.style),
    output_compression: rules.compression,
  };
}

/**
 * What `GET /image/options` answers: every model the policy lets a create name, the default first,
 * each with the values its family takes, so a client offers only what `resolveImageOptions` accepts.
 * Defaults are stated only where pixyproxy decides them (the model, the configured size, the format
 * it asks for); null leaves the choice to the provider. Source: docs/API.md, "GET /image/options".
 * @param defaultSize WIDTHxHEIGHT a create of the default model gets without `size` (IMAGE_SIZE, or
 *   the local generator's own); undefined when the provider decides.
 */
export function describeImageOptions(policy: ModelPolicy, defaultSize: string | undefined): GenerationOptions {
  const ordered = [policy.defaultModel, ...policy.allowedModels.filter((model) => model !== policy.defaultModel)];
  const models = ordered.flatMap((model) => {
    const rules = familyRulesOf(model);
    // A model without rules is refused by resolveImageOptions (and by start-up's price check): never offered.
    return rules === undefined ? [] : [modelOptionsOf(model, rules, model === policy.defaultModel ? defaultSize : undefined)];
  });
  return { default_model: policy.defaultModel, models };
}
