import type { TokenUsage } from '../../core/models/usage.js';
import type { ImageOptions, OutputFormat } from './image-options.js';
import type { ImageMediaType } from './media-type.js';

/**
 * An image as a generator hands it back, already checked to be what it claims: the media type, the
 * extension and the size are read from the bytes.
 */
export interface GeneratedImage {
  bytes: Buffer;
  contentType: ImageMediaType;
  /** File name extension for `contentType`, without the dot. */
  extension: 'png' | 'jpg' | 'webp';
  width: number;
  height: number;
  /** The model that produced it. */
  model: string;
  /** The provider's rewrite of the prompt, when it reports one. */
  revisedPrompt: string | null;
  /** As the provider reports them, else as requested; null when neither says. */
  quality: string | null;
  background: string | null;
  outputFormat: OutputFormat;
  /** The provider's token usage (GPT image models); null when it reports none. */
  usage: TokenUsage | null;
}

/** What one generation is asked for besides the prompt. */
export interface GenerationRequest {
  /** Checked by `resolveImageOptions`; absent: the generator's configured model and defaults. */
  options?: ImageOptions;
  /** The end user's opaque id, sent to the provider as `user` (never the username). */
  user?: string;
}

/**
 * Turns a prompt into image bytes. Implementations throw PixyproxyError subclasses for failures
 * they understand (refused prompt, provider busy, timeout) and never return unchecked bytes.
 */
export interface ImageGenerator {
  readonly name: string;
  generate(prompt: string, request?: GenerationRequest): Promise<GeneratedImage>;
}
