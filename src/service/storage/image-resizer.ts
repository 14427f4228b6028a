/** A media type a variant can be encoded in. */
export type VariantMediaType = 'image/avif' | 'image/webp' | 'image/png' | 'image/jpeg';

/** What a resize is asked to make. */
export interface ResizeRequest {
  /** Target width in pixels; the height keeps the aspect ratio. Never enlarges past the original. */
  width: number;
  mediaType: VariantMediaType;
}

/** The resizer port: original bytes in, encoded variant bytes out. */
export interface ImageResizer {
  /**
   * @throws ImageTooLargeError when the original has more pixels than allowed (a decompression
   *   bomb), before it is decoded.
   */
  resize(original: Uint8Array, request: ResizeRequest): Promise<Uint8Array>;
}

/** The original is over the input-pixel cap; raised before any pixel is decoded. */
export class ImageTooLargeError extends Error {}
