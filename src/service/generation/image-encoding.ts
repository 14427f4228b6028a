import type { Sharp, SharpOptions } from 'sharp';
import type { OutputFormat } from './image-options.js';

let loading: Promise<(input: Buffer, options: SharpOptions) => Sharp> | undefined;

/** sharp, loaded on the first JPEG or WebP rather than at start-up: it loads libvips, a large native library. */
function loadSharp() {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}

/**
 * Encodes raw RGBA pixels as PNG, JPEG or WebP with sharp (libvips). `compression` follows the Images
 * API's `output_compression`: 0-100, 100 the best quality (its default); it maps to the encoder's
 * quality and is ignored for PNG, which is lossless.
 * @param pixels width x height x 4 bytes, row-major RGBA.
 */
export async function encodeRgba(
  pixels: Buffer,
  width: number,
  height: number,
  format: OutputFormat,
  compression = 100,
): Promise<Buffer> {
  const sharp = await loadSharp();
  const image = sharp(pixels, { raw: { width, height, channels: 4 } });
  const quality = Math.min(100, Math.max(1, Math.round(compression)));
  switch (format) {
    case 'png':
      return image.png().toBuffer();
    case 'jpeg':
      // JPEG has no alpha: flatten onto white rather than let libvips drop it to black.
      return image.flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
  }
}
