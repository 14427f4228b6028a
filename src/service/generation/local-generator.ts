import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { PNG } from 'pngjs';
import type { GeneratedImage, GenerationRequest, ImageGenerator } from './image-generator.js';
import { encodeRgba } from './image-encoding.js';
import { parseSize } from './image-options.js';
import { detectImage } from './media-type.js';

/**
 * pngjs, required on the first image rather than imported: a server that only reads never loads it
 * (start-up time goes mostly to loading modules). CommonJS, so the require is synchronous.
 */
function pngjs(): typeof import('pngjs') {
  return createRequire(import.meta.url)('pngjs') as typeof import('pngjs');
}

/** The size the local generator renders when neither IMAGE_SIZE nor the request names one, in pixels. */
export const LOCAL_DEFAULT_SIZE = { width: 512, height: 512 } as const;

export interface LocalGeneratorOptions {
  /** Pixels; default LOCAL_DEFAULT_SIZE. */
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
 * The offline generator: renders a real image (a two-colour gradient with translucent discs) whose
 * every pixel follows from the prompt's hash. No network, no key, stable across runs. It honours
 * `size` (any WxH within LOCAL_SIZE_LIMITS, checked by resolveImageOptions) and `output_format`:
 * PNG through pngjs, JPEG and WebP through sharp, with `output_compression` as the encoder quality.
 */
export class LocalImageGenerator implements ImageGenerator {
  readonly name = 'local';
  readonly #width: number;
  readonly #height: number;
  #png: PNG | undefined;

  constructor(options: LocalGeneratorOptions = {}) {
    this.#width = options.width ?? LOCAL_DEFAULT_SIZE.width;
    this.#height = options.height ?? LOCAL_DEFAULT_SIZE.height;
  }

  async generate(prompt: string, request: GenerationRequest = {}): Promise<GeneratedImage> {
    const options = request.options;
    const requested = options?.size === undefined ? undefined : parseSize(options.size);
    const width = requested?.width ?? this.#width;
    const height = requested?.height ?? this.#height;
    const format = options?.output_format ?? 'png';
    // One pixel buffer for the configured size, reused: the fill and the PNG encode below never
    // await, so no two calls share it at once. Other sizes get their own.
    const { PNG: Png } = pngjs();
    const png = width === this.#width && height === this.#height ? (this.#png ??= new Png({ width, height, colorType: 2 })) : new Png({ width, height, colorType: 2 });
    paint(png, prompt);
    const bytes =
      format === 'png'
        ? Png.sync.write(png, { colorType: 2 })
        : // sharp encodes off the main thread: hand it a copy, the shared buffer may be repainted meanwhile.
          await encodeRgba(Buffer.from(png.data), width, height, format, options?.output_compression);
    const detected = detectImage(bytes);
    return {
      bytes,
      contentType: detected.mediaType,
      extension: detected.extension,
      width,
      height,
      model: 'local',
      revisedPrompt: null,
      quality: null,
      background: null,
      outputFormat: format,
      usage: null,
    };
  }
}

/** Fills `png` with the prompt's picture. */
function paint(png: PNG, prompt: string): void {
  const { width, height } = png;
  const seed = seedBytes(prompt, 64);
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
}
