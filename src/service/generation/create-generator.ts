import type { Config } from '../../core/config.js';
import { ConfigurationError } from '../../core/errors.js';
import type { ImageGenerator } from './image-generator.js';
import type { ServiceLogger } from '../../core/service-logger.js';
import { LocalImageGenerator } from './local-generator.js';

function dimensions(size: string | undefined): { width?: number; height?: number } {
  if (size === undefined) return {};
  const [width, height] = size.split('x').map(Number);
  return { width: width!, height: height! };
}

/**
 * The configured generator. Throws ConfigurationError (naming the variable) when the OpenAI settings
 * cannot work, e.g. an IMAGE_SIZE the model does not offer, so the process fails at start-up.
 */
export async function createGenerator(config: Config, log?: ServiceLogger): Promise<ImageGenerator> {
  if (config.generator === 'local') return new LocalImageGenerator(dimensions(config.imageSize));
  const { apiKey } = config.openai;
  // loadConfig already refuses this; repeated so the generator never starts without a key.
  if (apiKey === undefined) throw new ConfigurationError('IMAGE_GENERATOR=openai needs OPENAI_API_KEY to be set');
  // Loaded only when configured: the SDK's code costs the local default ~13 MiB of resident memory.
  const { OpenAIImageGenerator } = await import('./openai/openai-generator.js');
  return new OpenAIImageGenerator({ ...config.openai, apiKey, size: config.imageSize, ...(log && { log }) });
}
