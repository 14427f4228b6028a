import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeRgba } from '../../../src/service/generation/image-encoding.js';
import { detectImage, UnrecognisedImageError } from '../../../src/service/generation/media-type.js';

const pixels = (width: number, height: number) => Buffer.alloc(width * height * 4, 0x80);

describe('detectImage', () => {
  it.each([
    ['png', 'image/png', 'png'],
    ['jpeg', 'image/jpeg', 'jpg'],
    ['webp', 'image/webp', 'webp'],
  ] as const)('reads a real %s as %s with its size from the header', async (format, mediaType, extension) => {
    const bytes = await encodeRgba(pixels(37, 21), 37, 21, format, 80);
    expect(detectImage(bytes)).toEqual({ mediaType, extension, width: 37, height: 21 });
  });

  it('reads a lossless WebP (VP8L) and an extended one with alpha (VP8X)', async () => {
    const lossless = await sharp(pixels(40, 30), { raw: { width: 40, height: 30, channels: 4 } }).webp({ lossless: true }).toBuffer();
    const withAlpha = await sharp(Buffer.alloc(50 * 20 * 4, 0x40), { raw: { width: 50, height: 20, channels: 4 } }).webp({ quality: 50, alphaQuality: 50 }).toBuffer();
    expect(detectImage(lossless)).toMatchObject({ mediaType: 'image/webp', width: 40, height: 30 });
    expect(detectImage(withAlpha)).toMatchObject({ mediaType: 'image/webp', width: 50, height: 20 });
  });

  it.each(['png', 'jpeg', 'webp'] as const)('refuses a %s cut short', async (format) => {
    const bytes = await encodeRgba(pixels(64, 64), 64, 64, format, 90);
    expect(() => detectImage(bytes.subarray(0, bytes.length - 10))).toThrow(UnrecognisedImageError);
  });

  it.each([
    ['empty bytes', Buffer.alloc(0)],
    ['text', Buffer.from('<html>not an image</html>')],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')],
  ])('refuses %s', (_case, bytes) => {
    expect(() => detectImage(bytes)).toThrow(UnrecognisedImageError);
  });
});
