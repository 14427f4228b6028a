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

/**
 * Turns a prompt into image bytes. Implementations throw PixyproxyError subclasses for failures
 * they understand (refused prompt, provider busy, timeout) and never return unchecked bytes.
 */
export interface ImageGenerator {
  readonly name: string;
  generate(prompt: string): Promise<GeneratedImage>;
}
