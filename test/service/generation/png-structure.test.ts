import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { MalformedPngError, readPngDimensions } from '../../../src/service/generation/png-structure.js';

function png(width: number, height: number): Buffer {
  const image = new PNG({ width, height, colorType: 2 });
  image.data.fill(200);
  return PNG.sync.write(image, { colorType: 2 });
}

describe('readPngDimensions', () => {
  it('reads width and height from the IHDR of a whole PNG', () => {
    expect(readPngDimensions(png(37, 11))).toEqual({ width: 37, height: 11 });
  });

  it.each([
    ['empty bytes', Buffer.alloc(0)],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1])],
    ['text', Buffer.from('hello, this is not an image at all')],
    ['a PNG cut short', png(16, 16).subarray(0, 50)],
    ['a PNG without its IEND', png(16, 16).subarray(0, -12)],
  ])('refuses %s', (_case, bytes) => {
    expect(() => readPngDimensions(bytes)).toThrow(MalformedPngError);
  });

  it('refuses a PNG whose image data was corrupted (bad CRC)', () => {
    const bytes = Buffer.from(png(16, 16));
    const idat = bytes.indexOf('IDAT');
    bytes[idat + 6] = bytes[idat + 6]! ^ 0xff;
    expect(() => readPngDimensions(bytes)).toThrow(/bad CRC/);
  });

  it('refuses a PNG whose first chunk is not IHDR', () => {
    const bytes = Buffer.from(png(16, 16));
    bytes.write('IHDX', 12, 'latin1');
    bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29); // a valid CRC, so only the type is wrong
    expect(() => readPngDimensions(bytes)).toThrow(/not IHDR/);
  });
});
