/** An image as a generator hands it back, already checked to be what it claims. */
export interface GeneratedImage {
  bytes: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** The model that produced it. */
  model: string;
  /** The provider's rewrite of the prompt, when it reports one. */
  revisedPrompt: string | null;
}

export interface GenerateOptions {
  /** Aborts the request to the provider, e.g. at shutdown. Client disconnects do not abort. */
  signal?: AbortSignal;
}

/**
 * Turns a prompt into image bytes. Implementations throw PixyproxyError subclasses for failures
 * they understand (refused prompt, provider busy, timeout) and never return unchecked bytes.
 */
export interface ImageGenerator {
  readonly name: string;
  generate(prompt: string, options?: GenerateOptions): Promise<GeneratedImage>;
}
