import { MalformedPngError, readPngDimensions } from './png-structure.js';

/**
 * What image bytes are, read from the bytes themselves: the media type from the signature, and the
 * pixel size from the format's header. A provider's claim (or the requested `output_format`) is never
 * trusted for the `Content-Type` a stored image is served with.
 */

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/webp';

export interface DetectedImage {
  mediaType: ImageMediaType;
  /** The file name extension for the type, without the dot. */
  extension: 'png' | 'jpg' | 'webp';
  width: number;
  height: number;
}

/** Why bytes are not a whole PNG, JPEG or WebP image; the caller decides what it means to a client. */
export class UnrecognisedImageError extends Error {}

const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

/** SOFn markers carry the frame size (ITU-T T.81 B.2.2); C4, C8 and CC are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * JPEG (ITU-T T.81 annex B): SOI, marker segments up to the first SOFn for the size, and EOI as the
 * last two bytes, so a truncated download is refused.
 */
function readJpeg(bytes: Buffer): DetectedImage {
  if (bytes.length < 4 || bytes[bytes.length - 2] !== 0xff || bytes[bytes.length - 1] !== 0xd9) {
    throw new UnrecognisedImageError('JPEG without EOI: truncated');
  }
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw new UnrecognisedImageError(`JPEG marker expected at byte ${offset}`);
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    if (length < 2 || offset + 2 + length > bytes.length) throw new UnrecognisedImageError('JPEG segment overruns the data');
    if (isStartOfFrame(marker)) {
      if (length < 7) throw new UnrecognisedImageError('JPEG frame header too short');
      const height = bytes.readUInt16BE(offset + 5);
      const width = bytes.readUInt16BE(offset + 7);
      if (width < 1 || height < 1) throw new UnrecognisedImageError(`impossible JPEG size ${width}x${height}`);
      return { mediaType: 'image/jpeg', extension: 'jpg', width, height };
    }
    if (marker === 0xda) break; // start of scan before any frame header
    offset += 2 + length;
  }
  throw new UnrecognisedImageError('JPEG without a frame header');
}

/**
 * WebP (RFC 9649): a RIFF container whose size field matches the bytes (a truncated download fails
 * here), then the first chunk's frame size: VP8X canvas, VP8L lossless header or VP8 key frame.
 */
function readWebp(bytes: Buffer): DetectedImage {
  if (bytes.length < 30) throw new UnrecognisedImageError('WebP too short');
  if (bytes.readUInt32LE(4) + 8 !== bytes.length) throw new UnrecognisedImageError('WebP RIFF size does not match the data: truncated');
  const chunk = bytes.toString('latin1', 12, 16);
  let width: number;
  let height: number;
  if (chunk === 'VP8X') {
    width = bytes.readUIntLE(24, 3) + 1;
    height = bytes.readUIntLE(27, 3) + 1;
  } else if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) throw new UnrecognisedImageError('VP8L without its signature byte');
    const bits = bytes.readUInt32LE(21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8 ') {
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) throw new UnrecognisedImageError('VP8 without a key frame start code');
    width = bytes.readUInt16LE(26) & 0x3fff;
    height = bytes.readUInt16LE(28) & 0x3fff;
  } else {
    throw new UnrecognisedImageError(`WebP starts with an unknown chunk "${chunk}"`);
  }
  if (width < 1 || height < 1) throw new UnrecognisedImageError(`impossible WebP size ${width}x${height}`);
  return { mediaType: 'image/webp', extension: 'webp', width, height };
}

/**
 * The media type, extension and pixel size of PNG, JPEG or WebP bytes, checked from the bytes. A PNG
 * gets the strict structure check (every chunk's CRC, IDAT, IEND: `readPngDimensions`).
 * @throws UnrecognisedImageError for anything else, or a truncated or malformed image.
 */
export function detectImage(bytes: Buffer): DetectedImage {
  if (bytes.subarray(0, 4).equals(PNG_MAGIC)) {
    try {
      return { mediaType: 'image/png', extension: 'png', ...readPngDimensions(bytes) };
    } catch (error) {
      if (error instanceof MalformedPngError) throw new UnrecognisedImageError(`malformed PNG: ${error.message}`, { cause: error });
      throw error;
    }
  }
  if (bytes.subarray(0, 3).equals(JPEG_SOI)) return readJpeg(bytes);
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return readWebp(bytes);
  throw new UnrecognisedImageError('not a PNG, JPEG or WebP image');
}
