/**
 * The generation room: the `ImageGenerator` port, the limiter every generator runs behind, the local
 * generator, and the OpenAI adapter (`openai/`, loaded only when configured). The rest of the code
 * imports this file only.
 */
export type { GeneratedImage, ImageGenerator } from './image-generator.js';
export { createGenerator } from './create-generator.js';
export { GenerationLimiter, type GenerationLimits } from './generation-limiter.js';
export { LocalImageGenerator, type LocalGeneratorOptions } from './local-generator.js';
export { MalformedPngError, readPngDimensions } from './png-structure.js';
