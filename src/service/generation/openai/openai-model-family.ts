import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { ConfigurationError } from '../../../core/errors.js';
import { familyRulesOf, type FamilyRules, type ImageOptions } from '../image-options.js';

/**
 * The rules of OPENAI_IMAGE_MODEL, after checking IMAGE_SIZE against it, and of every model in the
 * allow-list. Checked once at start-up, so a bad setting fails the boot rather than every request
 * (as a provider 400, which clients would see as a 502). Unknown models are refused: their parameters
 * (base64 or not, sizes) cannot be guessed, and a wrong guess costs money per call.
 * @throws ConfigurationError naming the variable.
 */
export function modelFamilyOf(model: string, size: string | undefined, allowedModels: readonly string[] = [model]): FamilyRules {
  for (const allowed of allowedModels) {
    const rules = familyRulesOf(allowed);
    if (rules === undefined || rules.name === 'local') {
      const variable = allowed === model ? 'OPENAI_IMAGE_MODEL' : 'OPENAI_IMAGE_MODELS';
      throw new ConfigurationError(
        `${variable} "${allowed}" is not supported: use gpt-image-2 (or another gpt-image-* model), chatgpt-image-latest, dall-e-3 or dall-e-2`,
      );
    }
  }
  const rules = familyRulesOf(model)!;
  const problem = size === undefined ? undefined : rules.sizeProblem(size);
  if (problem !== undefined) {
    throw new ConfigurationError(`IMAGE_SIZE "${size}" does not fit OPENAI_IMAGE_MODEL ${model}: it ${problem}`);
  }
  return rules;
}

/**
 * The Images API request for one image with checked `options` (OpenAI API reference, "Create image").
 * Only the options the client set are sent, plus what pixyproxy needs: `n: 1`, base64 output
 * (`response_format: "b64_json"` for DALL-E, which otherwise answers with a URL that would be a
 * second, unauthenticated download; the GPT image models always answer in base64 and reject it),
 * `output_format: "png"` for GPT image models unless another was asked for, and the end user's id.
 * @param defaultSize IMAGE_SIZE, sent when the request names no size and uses the default model.
 */
export function imageRequestParams(
  options: ImageOptions,
  prompt: string,
  defaultSize: string | undefined,
  user: string | undefined,
): ImageGenerateParamsNonStreaming {
  const { model, family, size, quality, background, output_format, output_compression, moderation, style } = options;
  const base = {
    model,
    prompt,
    n: 1,
    ...((size ?? defaultSize) !== undefined && { size: size ?? defaultSize }),
    ...(quality !== undefined && { quality }),
    ...(user !== undefined && { user }),
  };
  if (family === 'dall-e-2' || family === 'dall-e-3') {
    return { ...base, response_format: 'b64_json', ...(style !== undefined && { style }) };
  }
  return {
    ...base,
    output_format: output_format ?? 'png',
    ...(background !== undefined && { background }),
    ...(output_compression !== undefined && { output_compression }),
    ...(moderation !== undefined && { moderation }),
  };
}
