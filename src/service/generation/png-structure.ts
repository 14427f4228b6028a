import { crc32 } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The largest width or height the PNG specification allows (2^31 - 1). */
const MAX_DIMENSION = 0x7fffffff;

export interface PngDimensions {
  width: number;
  height: number;
}

/** Why bytes are not a well-formed PNG; the caller decides what that means to a client. */
export class MalformedPngError extends Error {}

/**
 * Checks that bytes are a structurally sound PNG without decoding the pixels: the signature, an IHDR
 * chunk first (RFC 2083 section 3.2, 11.2.2), every chunk's length and CRC, at least one IDAT, and an
 * IEND. A truncated or corrupted download fails here instead of being stored. Returns the IHDR size.
 */
export function readPngDimensions(bytes: Buffer): PngDimensions {
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw new MalformedPngError('no PNG signature');
  }
  let offset = PNG_SIGNATURE.length;
  let dimensions: PngDimensions | undefined;
  let sawImageData = false;
  for (let index = 0; ; index++) {
    if (offset + 12 > bytes.length) throw new MalformedPngError(`truncated at byte ${offset}, before IEND`);
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 8 + length;
    if (length > MAX_DIMENSION || end + 4 > bytes.length) throw new MalformedPngError(`chunk ${type} overruns the data`);
    if (crc32(bytes.subarray(offset + 4, end)) !== bytes.readUInt32BE(end)) {
      throw new MalformedPngError(`chunk ${type} has a bad CRC`);
    }
    if (index === 0) {
      if (type !== 'IHDR' || length !== 13) throw new MalformedPngError('the first chunk is not IHDR');
      const width = bytes.readUInt32BE(offset + 8);
      const height = bytes.readUInt32BE(offset + 12);
      if (width < 1 || height < 1 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
        throw new MalformedPngError(`impossible size ${width}x${height}`);
      }
      dimensions = { width, height };
    }
    if (type === 'IDAT') sawImageData = true;
    if (type === 'IEND') break;
    offset = end + 4;
  }
  if (!sawImageData || dimensions === undefined) throw new MalformedPngError('no image data');
  return dimensions;
}
