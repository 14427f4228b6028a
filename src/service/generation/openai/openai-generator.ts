import OpenAI from 'openai';
import type { OpenAIConfig } from '../../../core/config.js';
import { DataValidationError, ImageGenerationError } from '../../../core/errors.js';
import type { TokenUsage } from '../../../core/models/usage.js';
import type { GeneratedImage, GenerationRequest, ImageGenerator } from '../image-generator.js';
import { silentLogger, type ServiceLogger } from '../../../core/service-logger.js';
import { familyRulesOf, type ImageOptions, type OutputFormat } from '../image-options.js';
import { detectImage } from '../media-type.js';
import { failureOf } from './openai-failure.js';
import { imageRequestParams, modelFamilyOf } from './openai-model-family.js';
import { retryPolicyFetch } from './openai-retry-policy.js';
import { wellFormedText } from '../../../core/unicode-text.js';

export interface OpenAIGeneratorOptions extends OpenAIConfig {
  apiKey: string;
  /** WIDTHxHEIGHT, or undefined for the model's default. */
  size: string | undefined;
  log?: ServiceLogger;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer {
  if (text.length === 0 || !BASE64.test(text)) throw new Error('b64_json is not base64');
  return Buffer.from(text, 'base64');
}

const count = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null);

/**
 * The response's `usage` (GPT image models) as stored, or null when absent or not numeric. Totals
 * missing but split given are summed; a total that is missing is input + output.
 */
export function tokenUsageOf(usage: unknown): TokenUsage | null {
  if (typeof usage !== 'object' || usage === null) return null;
  const u = usage as Record<string, unknown>;
  const inDetails = (typeof u['input_tokens_details'] === 'object' && u['input_tokens_details'] !== null ? u['input_tokens_details'] : {}) as Record<string, unknown>;
  const outDetails = (typeof u['output_tokens_details'] === 'object' && u['output_tokens_details'] !== null ? u['output_tokens_details'] : {}) as Record<string, unknown>;
  const input = count(u['input_tokens']);
  const output = count(u['output_tokens']);
  if (input === null || output === null) return null;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: count(u['total_tokens']) ?? input + output,
    input_text_tokens: count(inDetails['text_tokens']),
    input_image_tokens: count(inDetails['image_tokens']),
    output_text_tokens: count(outDetails['text_tokens']),
    output_image_tokens: count(outDetails['image_tokens']),
  };
}

const FORMAT_OF_TYPE: Record<string, OutputFormat> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' };
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

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
 * whole PNG, JPEG or WebP (read from the bytes) before anyone stores it. The model and options come
 * per request, already checked by `resolveImageOptions`; without them, the configured model.
 */
export class OpenAIImageGenerator implements ImageGenerator {
  readonly name = 'openai';
  readonly #client: OpenAI;
  readonly #model: string;
  readonly #size: string | undefined;
  readonly #timeoutMs: number;
  readonly #redact: (text: string) => string;

  constructor(options: OpenAIGeneratorOptions) {
    modelFamilyOf(options.model, options.size, options.allowedModels);
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

  async generate(prompt: string, request: GenerationRequest = {}): Promise<GeneratedImage> {
    const options: ImageOptions = request.options ?? { model: this.#model, family: familyRulesOf(this.#model)!.name };
    const maxPromptLength = familyRulesOf(options.model)?.maxPromptLength ?? 0;
    // resolveImageOptions checks this before any quota is held; repeated so no caller can skip it.
    if (prompt.length > maxPromptLength) {
      const message = `${options.model} accepts prompts of at most ${maxPromptLength} characters`;
      throw new DataValidationError(message, { errors: [{ path: '/body/prompt', message }] });
    }
    const defaultSize = options.model === this.#model ? this.#size : undefined;
    const params = imageRequestParams(options, prompt, defaultSize, request.user);
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    let response: OpenAI.ImagesResponse | string;
    try {
      // A client per call: the retry policy needs this call's deadline. It shares the global connection pool.
      const client = this.#client.withOptions({ fetch: retryPolicyFetch(Date.now() + this.#timeoutMs) });
      response = await abortable(client.images.generate(params, { signal: deadline }), deadline);
    } catch (error) {
      throw failureOf(error, { deadline, redact: this.#redact });
    }
    return this.#checked(response, options);
  }

  #checked(response: OpenAI.ImagesResponse | string, options: ImageOptions): GeneratedImage {
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
      const detected = detectImage(bytes);
      const reported = response as OpenAI.ImagesResponse;
      return {
        bytes,
        contentType: detected.mediaType,
        extension: detected.extension,
        width: detected.width,
        height: detected.height,
        model: options.model,
        // A lone surrogate would be stored differently by each engine; one U+FFFD, the same everywhere.
        revisedPrompt: typeof item.revised_prompt === 'string' && item.revised_prompt !== '' ? wellFormedText(item.revised_prompt) : null,
        quality: stringOrNull(reported.quality) ?? options.quality ?? null,
        background: stringOrNull(reported.background) ?? options.background ?? null,
        // What the bytes are, not what was asked or claimed.
        outputFormat: FORMAT_OF_TYPE[detected.mediaType]!,
        usage: tokenUsageOf(reported.usage),
      };
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
