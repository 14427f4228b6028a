import { noisePng } from '../../scripts/noise-png.js';
import type { GeneratedImage, ImageGenerator } from '../../src/service/generation/index.js';

/** Generates incompressible PNGs of a fixed size, one distinct image per prompt. */
export class NoiseImageGenerator implements ImageGenerator {
  readonly name = 'noise';

  constructor(private readonly side: number) {}

  async generate(prompt: string): Promise<GeneratedImage> {
    const bytes = noisePng(this.side, this.side, prompt);
    return { bytes, contentType: 'image/png' as const, extension: 'png' as const, width: this.side, height: this.side, model: 'noise', revisedPrompt: null, quality: null, background: null, outputFormat: 'png' as const, usage: null };
  }
}
