import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { ConfigurationError } from '../../../core/errors.js';

/**
 * What differs between OpenAI's image models: which sizes they accept, how long a prompt may be and
 * how to ask for base64 output. Checked once at start-up, so a bad IMAGE_SIZE fails the boot rather
 * than every request (as a provider 400, which clients would see as a 502).
 */
export interface ModelFamily {
  name: string;
  maxPromptLength: number;
  /** The request parameters for one PNG of `size` (undefined: the model's default size). */
  params(model: string, prompt: string, size: string | undefined): ImageGenerateParamsNonStreaming;
  /** Why `size` is not accepted, or undefined when it is. */
  sizeProblem(size: string): string | undefined;
}

function fixedSizes(sizes: readonly string[]) {
  return (size: string) => (sizes.includes(size) ? undefined : `must be one of ${sizes.join(', ')}`);
}

const DALL_E: Omit<ModelFamily, 'name' | 'maxPromptLength' | 'sizeProblem'> = {
  // DALL-E answers with short-lived URLs unless asked for base64; fetching a URL would be a second,
  // unauthenticated download to check, so ask for the bytes inline.
  params: (model, prompt, size) => ({ model, prompt, n: 1, response_format: 'b64_json', ...(size && { size }) }),
};

const GPT_IMAGE_PARAMS: ModelFamily['params'] = (model, prompt, size) =>
  // The GPT image models always answer in base64 and reject response_format.
  ({ model, prompt, n: 1, output_format: 'png', ...(size && { size }) });

const GPT_IMAGE_STANDARD_SIZES = ['1024x1024', '1536x1024', '1024x1536'];

/** gpt-image-2 takes any WIDTHxHEIGHT within its limits (per the SDK's ImageGenerateParams docs). */
function gptImage2SizeProblem(size: string): string | undefined {
  const [width, height] = size.split('x').map(Number) as [number, number];
  if (width % 16 !== 0 || height % 16 !== 0) return 'must have a width and height divisible by 16';
  if (width > 3 * height || height > 3 * width) return 'must have an aspect ratio between 1:3 and 3:1';
  if (Math.max(width, height) > 3840 || width * height > 3840 * 2160) return 'must be at most 3840x2160';
  return undefined;
}

const FAMILIES: ReadonlyArray<{ matches: (model: string) => boolean; family: ModelFamily }> = [
  {
    matches: (model) => model === 'dall-e-2',
    family: { name: 'dall-e-2', maxPromptLength: 1000, sizeProblem: fixedSizes(['256x256', '512x512', '1024x1024']), ...DALL_E },
  },
  {
    matches: (model) => model === 'dall-e-3',
    family: { name: 'dall-e-3', maxPromptLength: 4000, sizeProblem: fixedSizes(['1024x1024', '1792x1024', '1024x1792']), ...DALL_E },
  },
  {
    matches: (model) => model.startsWith('gpt-image-2'),
    family: { name: 'gpt-image-2', maxPromptLength: 32000, sizeProblem: gptImage2SizeProblem, params: GPT_IMAGE_PARAMS },
  },
  {
    matches: (model) => model.startsWith('gpt-image-') || model === 'chatgpt-image-latest',
    family: { name: 'gpt-image', maxPromptLength: 32000, sizeProblem: fixedSizes(GPT_IMAGE_STANDARD_SIZES), params: GPT_IMAGE_PARAMS },
  },
];

/**
 * The family of OPENAI_IMAGE_MODEL, after checking IMAGE_SIZE against it. Unknown models are refused:
 * their parameters (base64 or not, sizes) cannot be guessed, and a wrong guess costs money per call.
 */
export function modelFamilyOf(model: string, size: string | undefined): ModelFamily {
  const family = FAMILIES.find((candidate) => candidate.matches(model))?.family;
  if (family === undefined) {
    throw new ConfigurationError(
      `OPENAI_IMAGE_MODEL "${model}" is not supported: use gpt-image-1 (or another gpt-image-* model), dall-e-3 or dall-e-2`,
    );
  }
  const problem = size === undefined ? undefined : family.sizeProblem(size);
  if (problem !== undefined) {
    throw new ConfigurationError(`IMAGE_SIZE "${size}" does not fit OPENAI_IMAGE_MODEL ${model}: it ${problem}`);
  }
  return family;
}
