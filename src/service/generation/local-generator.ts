import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import type { GeneratedImage, ImageGenerator } from './image-generator.js';

export interface LocalGeneratorOptions {
  width?: number;
  height?: number;
}

interface Disc {
  x: number;
  y: number;
  radius: number;
  rgb: [number, number, number];
}

/** A deterministic stream of bytes from the prompt: same prompt, same picture. */
function seedBytes(prompt: string, length: number): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < length; i++) {
    chunks.push(createHash('sha256').update(`${i}:${prompt}`).digest());
  }
  return Buffer.concat(chunks).subarray(0, length);
}

function discsFrom(seed: Buffer, width: number, height: number): Disc[] {
  const discs: Disc[] = [];
  for (let i = 0; i < 6; i++) {
    const o = 8 + i * 6;
    discs.push({
      x: (seed[o]! / 255) * width,
      y: (seed[o + 1]! / 255) * height,
      radius: (0.08 + (seed[o + 2]! / 255) * 0.25) * Math.min(width, height),
      rgb: [seed[o + 3]!, seed[o + 4]!, seed[o + 5]!],
    });
  }
  return discs;
}

/**
 * The offline generator: renders a real PNG (a two-colour gradient with translucent discs) whose
 * every pixel follows from the prompt's hash. No network, no key, stable across runs.
 */
export class LocalImageGenerator implements ImageGenerator {
  readonly name = 'local';
  readonly #width: number;
  readonly #height: number;
  #png: PNG | undefined;

  constructor(options: LocalGeneratorOptions = {}) {
    this.#width = options.width ?? 512;
    this.#height = options.height ?? 512;
  }

  async generate(prompt: string): Promise<GeneratedImage> {
    const width = this.#width;
    const height = this.#height;
    const seed = seedBytes(prompt, 64);
    // One pixel buffer per generator, reused: the fill and the encode below never await, so no two
    // calls share it at once, and a 1 MiB buffer per create no longer waits for the GC.
    this.#png ??= new PNG({ width, height, colorType: 2 });
    const png = this.#png;
    const discs = discsFrom(seed, width, height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const t = (x + y) / (width + height);
        let r = seed[0]! * (1 - t) + seed[3]! * t;
        let g = seed[1]! * (1 - t) + seed[4]! * t;
        let b = seed[2]! * (1 - t) + seed[5]! * t;
        for (const disc of discs) {
          const dx = x - disc.x;
          const dy = y - disc.y;
          if (dx * dx + dy * dy <= disc.radius * disc.radius) {
            r = (r + disc.rgb[0]) / 2;
            g = (g + disc.rgb[1]) / 2;
            b = (b + disc.rgb[2]) / 2;
          }
        }
        const i = (y * width + x) * 4;
        png.data[i] = r;
        png.data[i + 1] = g;
        png.data[i + 2] = b;
        png.data[i + 3] = 255;
      }
    }
    const bytes = PNG.sync.write(png, { colorType: 2 });
    return { bytes, contentType: 'image/png', width, height, model: 'local', revisedPrompt: null };
  }
}
