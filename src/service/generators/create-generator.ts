import type { Config } from '../../core/config.js';
import type { ImageGenerator } from '../image-generator.js';
import { LocalImageGenerator } from './local-generator.js';

function dimensions(size: string | undefined): { width?: number; height?: number } {
  if (size === undefined) return {};
  const [width, height] = size.split('x').map(Number);
  return { width: width!, height: height! };
}

/** The configured generator. */
export async function createGenerator(config: Config): Promise<ImageGenerator> {
  if (config.generator === 'local') return new LocalImageGenerator(dimensions(config.imageSize));
  throw new Error('the OpenAI generator is not built yet');
}
