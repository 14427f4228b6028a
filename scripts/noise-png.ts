import { createCipheriv, createHash } from 'node:crypto';
import { PNG } from 'pngjs';

/** Width (= height) of an RGB noise PNG whose file is about 1 MiB: 591 x 591 x 3 bytes of pixels. */
export const ONE_MIB_SIDE = 591;

/**
 * A real PNG of pseudo-random pixels, deterministic in `seed`. Noise does not compress, so the file
 * is as large as its pixels (width x height x 3 bytes plus a little framing): a way to get an image
 * of a known, large size.
 */
export function noisePng(width: number, height: number, seed = 'noise'): Buffer {
  const key = createHash('sha256').update(seed).digest();
  // AES-CTR over zeros is a fast deterministic byte stream.
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const noise = cipher.update(Buffer.alloc(width * height * 3));
  const png = new PNG({ width, height, colorType: 2 });
  for (let p = 0, n = 0; p < png.data.length; p += 4, n += 3) {
    png.data[p] = noise[n]!;
    png.data[p + 1] = noise[n + 1]!;
    png.data[p + 2] = noise[n + 2]!;
    png.data[p + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2, filterType: 0 });
}
