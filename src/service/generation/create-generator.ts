import type { Config } from '../../core/config.js';
import { ConfigurationError } from '../../core/errors.js';
import type { ImageGenerator } from './image-generator.js';
import type { ServiceLogger } from '../../core/service-logger.js';
import { familyRulesOf } from './image-options.js';
import { LocalImageGenerator } from './local-generator.js';

function dimensions(size: string | undefined): { width?: number; height?: number } {
  if (size === undefined) return {};
  const [width, height] = size.split('x').map(Number);
  return { width: width!, height: height! };
}

/**
 * The configured generator. Throws ConfigurationError (naming the variable) when the settings cannot
 * work, e.g. an IMAGE_SIZE the model (or the local generator) does not make, so the process fails at
 * start-up instead of making images of a size a create could not ask for.
 */
export async function createGenerator(config: Config, log?: ServiceLogger): Promise<ImageGenerator> {
  if (config.generator === 'local') {
    const problem = config.imageSize === undefined ? undefined : familyRulesOf('local')!.sizeProblem(config.imageSize);
    if (problem !== undefined) throw new ConfigurationError(`IMAGE_SIZE "${config.imageSize}" does not fit the local generator: it ${problem}`);
    return new LocalImageGenerator(dimensions(config.imageSize));
  }
  const { apiKey } = config.openai;
  // loadConfig already refuses this; repeated so the generator never starts without a key.
  if (apiKey === undefined) throw new ConfigurationError('IMAGE_GENERATOR=openai needs OPENAI_API_KEY to be set');
  // Loaded only when configured: the SDK's code costs the local default ~13 MiB of resident memory.
  const { OpenAIImageGenerator } = await import('./openai/openai-generator.js');
  return new OpenAIImageGenerator({ ...config.openai, apiKey, size: config.imageSize, ...(log && { log }) });
}
