import OpenAI from 'openai';
import type { OpenAIConfig } from '../../../core/config.js';
import { DataValidationError, ImageGenerationError } from '../../../core/errors.js';
import type { GeneratedImage, ImageGenerator } from '../image-generator.js';
import { silentLogger, type ServiceLogger } from '../../../core/service-logger.js';
import { failureOf } from './openai-failure.js';
import { modelFamilyOf, type ModelFamily } from './openai-model-family.js';
import { retryPolicyFetch } from './openai-retry-policy.js';
import { MalformedPngError, readPngDimensions } from '../png-structure.js';

export interface OpenAIGeneratorOptions extends OpenAIConfig {
  apiKey: string;
  /** WIDTHxHEIGHT, or undefined for the model's default. */
  size: string | undefined;
  log?: ServiceLogger;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer {
  if (text.length === 0 || !BASE64.test(text)) throw new MalformedPngError('b64_json is not base64');
  return Buffer.from(text, 'base64');
}

/** Replaces every occurrence of `secret` in provider text. */
function redactorOf(secret: string): (text: string) => string {
  return (text) => text.replaceAll(secret, '[redacted]');
}

/** The SDK's own warnings and errors into our log (its per-request info lines are dropped). */
function sdkLogger(log: ServiceLogger, redact: (text: string) => string) {
  const forward = (level: 'warn' | 'error') => (message: string) => log[level]({ component: 'openai' }, redact(message));
  return { error: forward('error'), warn: forward('warn'), info: () => {}, debug: () => {} };
}

/**
 * Generates through the OpenAI Images API with the official SDK. The SDK retries transient failures
 * (with the provider's Retry-After); OPENAI_TIMEOUT_MS bounds the whole call, retries included, so a
 * timed-out (and possibly billed) attempt is never repeated. Whatever comes back is checked to be a
 * whole PNG before anyone stores it.
 */
export class OpenAIImageGenerator implements ImageGenerator {
  readonly name = 'openai';
  readonly #client: OpenAI;
  readonly #model: string;
  readonly #family: ModelFamily;
  readonly #size: string | undefined;
  readonly #timeoutMs: number;
  readonly #redact: (text: string) => string;

  constructor(options: OpenAIGeneratorOptions) {
    this.#family = modelFamilyOf(options.model, options.size);
    this.#model = options.model;
    this.#size = options.size;
    this.#timeoutMs = options.timeoutMs;
    this.#redact = redactorOf(options.apiKey);
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL !== undefined && { baseURL: options.baseURL }),
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      logger: sdkLogger(options.log ?? silentLogger, this.#redact),
      logLevel: 'warn',
    });
  }

  async generate(prompt: string): Promise<GeneratedImage> {
    if (prompt.length > this.#family.maxPromptLength) {
      const message = `${this.#model} accepts prompts of at most ${this.#family.maxPromptLength} characters`;
      throw new DataValidationError(message, { errors: [{ path: '/body/prompt', message }] });
    }
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    let response: OpenAI.ImagesResponse | string;
    try {
      // A client per call: the retry policy needs this call's deadline. It shares the global connection pool.
      const client = this.#client.withOptions({ fetch: retryPolicyFetch(Date.now() + this.#timeoutMs) });
      response = await abortable(client.images.generate(this.#family.params(this.#model, prompt, this.#size), { signal: deadline }), deadline);
    } catch (error) {
      throw failureOf(error, { deadline, redact: this.#redact });
    }
    return this.#checked(response);
  }

  #checked(response: OpenAI.ImagesResponse | string): GeneratedImage {
    // The SDK hands back a string, not an object, when the body is not JSON.
    const data: unknown = typeof response === 'object' && response !== null ? response.data : undefined;
    const item = Array.isArray(data) ? (data[0] as OpenAI.Image | undefined) : undefined;
    if (typeof item?.b64_json !== 'string') {
      throw new ImageGenerationError('The image provider returned no image', {
        cause: new Error('the Images API response has no data[0].b64_json'),
      });
    }
    try {
      const bytes = decodeBase64(item.b64_json);
      const { width, height } = readPngDimensions(bytes);
      const revisedPrompt = typeof item.revised_prompt === 'string' && item.revised_prompt !== '' ? item.revised_prompt : null;
      return { bytes, contentType: 'image/png', width, height, model: this.#model, revisedPrompt };
    } catch (error) {
      throw new ImageGenerationError('The image provider returned an invalid image', { cause: error });
    }
  }
}

/**
 * Settles as soon as `signal` fires: the SDK only notices an abort between its retry sleeps, and a
 * provider's Retry-After could otherwise hold the request past its deadline.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
