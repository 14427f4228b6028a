import type { Sharp, SharpOptions } from 'sharp';
import { ImageTooLargeError, type ImageResizer, type ResizeRequest } from '../image-resizer.js';

/**
 * Encoder settings. Part of every variant's identity (see `VARIANT_ENCODING_VERSION`): change them
 * and bump that version, or caches would keep old bytes under the same strong ETag.
 */
const ENCODE = {
  // effort 2 of 9: AVIF at the default (4) took several times longer for a barely smaller file.
  avif: { quality: 55, effort: 2 },
  webp: { quality: 80, effort: 4 },
  png: { compressionLevel: 9 },
  jpeg: { quality: 82, mozjpeg: true },
} as const;

type SharpFactory = (input: Uint8Array, options: SharpOptions) => Sharp;

let loading: Promise<SharpFactory> | undefined;

/**
 * sharp, loaded on the first thumbnail rather than at start-up: it loads libvips, a large native
 * library, which a server that never makes a thumbnail does not need.
 */
function loadSharp(): Promise<SharpFactory> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}

/** Resizes with sharp (libvips). The pixel cap is checked from the header, before decoding. */
export class SharpResizer implements ImageResizer {
  constructor(private readonly maxInputPixels: number) {}

  async resize(original: Uint8Array, request: ResizeRequest): Promise<Uint8Array> {
    const sharp = await loadSharp();
    // sharp itself refuses inputs over limitInputPixels; reading the header first gives the caller
    // a distinct error instead of a libvips message, and decodes nothing.
    const { width = 0, height = 0 } = await sharp(original, { limitInputPixels: false }).metadata();
    if (width * height > this.maxInputPixels) {
      throw new ImageTooLargeError(`original is ${width}x${height}, over the ${this.maxInputPixels}-pixel cap`);
    }
    const pipeline = sharp(original, { limitInputPixels: this.maxInputPixels, failOn: 'error' })
      .rotate()
      .resize({ width: request.width, withoutEnlargement: true });
    switch (request.mediaType) {
      case 'image/avif':
        return pipeline.avif(ENCODE.avif).toBuffer();
      case 'image/webp':
        return pipeline.webp(ENCODE.webp).toBuffer();
      case 'image/jpeg':
        return pipeline.jpeg(ENCODE.jpeg).toBuffer();
      case 'image/png':
        return pipeline.png(ENCODE.png).toBuffer();
    }
  }
}
