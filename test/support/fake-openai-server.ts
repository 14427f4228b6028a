import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';
import sharp from 'sharp';

/** One scripted answer of the fake. Every kind may be delayed. */
export type FakeReply =
  | {
      kind: 'image';
      width?: number;
      height?: number;
      revisedPrompt?: string;
      delayMs?: number;
      /** The bytes' format, whatever was asked (default: the request's output_format, else png). */
      format?: 'png' | 'jpeg' | 'webp';
      /** Replaces the `usage` a GPT image model reports; null leaves it out. */
      usage?: Record<string, unknown> | null;
    }
  | {
      kind: 'error';
      status: number;
      message?: string;
      type?: string;
      code?: string | null;
      headers?: Record<string, string>;
      delayMs?: number;
    }
  | { kind: 'raw'; status?: number; body: string; contentType?: string; delayMs?: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeOpenAIOptions {
  /** Requests whose bearer token differs get OpenAI's 401 (the key is masked in its message). */
  apiKey?: string;
  /** Answer used when no scripted reply is left. */
  defaultReply?: FakeReply;
}

const pngCache = new Map<string, string>();

/** A real, solid-colour PNG as base64; cached because the same few sizes come up again and again. */
export function pngBase64(width: number, height: number): string {
  const key = `${width}x${height}`;
  let cached = pngCache.get(key);
  if (cached === undefined) {
    const png = new PNG({ width, height, colorType: 2 });
    png.data.fill(Buffer.from([40, 90, 160, 255]));
    // A fixed filter: pngjs's adaptive choice takes about a second on 1024x1024.
    cached = PNG.sync.write(png, { colorType: 2, filterType: 2 }).toString('base64');
    pngCache.set(key, cached);
  }
  return cached;
}

const encodedCache = new Map<string, string>();

/** A real solid-colour JPEG or WebP (through sharp) as base64, cached per format and size. */
export async function encodedBase64(format: 'jpeg' | 'webp', width: number, height: number): Promise<string> {
  const key = `${format}:${width}x${height}`;
  let cached = encodedCache.get(key);
  if (cached === undefined) {
    const image = sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 160 } } });
    cached = (await (format === 'jpeg' ? image.jpeg({ quality: 80 }) : image.webp({ quality: 80 })).toBuffer()).toString('base64');
    encodedCache.set(key, cached);
  }
  return cached;
}

/**
 * Image output tokens the GPT image models bill per quality and size (gpt-image-1's published counts);
 * other sizes (gpt-image-2) are charged per 1024x1024-sized area.
 */
export const OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};

/** The `usage` the fake reports: a text token per 4 prompt characters (rounded up), no image input. */
export function fakeUsage(prompt: string, quality: string, width: number, height: number) {
  const text = Math.ceil(prompt.length / 4);
  const output = OUTPUT_TOKENS[quality]?.[`${width}x${height}`] ?? Math.ceil(((OUTPUT_TOKENS[quality]?.['1024x1024'] ?? 4160) * width * height) / (1024 * 1024));
  return {
    input_tokens: text,
    input_tokens_details: { text_tokens: text, image_tokens: 0 },
    output_tokens: output,
    total_tokens: text + output,
  };
}

function maskKey(key: string): string {
  return `${key.slice(0, 3)}${'*'.repeat(Math.max(0, key.length - 7))}${key.slice(-4)}`;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/**
 * A loopback stand-in for the OpenAI Images API (POST /v1/images/generations), for the real SDK to talk
 * to through its baseURL. Answers follow a per-test script (`reply(...)`), then `defaultReply`; every
 * request is recorded, and so is the highest number of requests it was serving at once.
 */
export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  maxInFlight = 0;
  #inFlight = 0;
  #script: FakeReply[] = [];
  #defaultReply: FakeReply;
  readonly #apiKey: string | undefined;
  readonly #server: Server;
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(options: FakeOpenAIOptions) {
    this.#apiKey = options.apiKey;
    this.#defaultReply = options.defaultReply ?? { kind: 'image' };
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
    const fake = new FakeOpenAIServer(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The base URL to hand the SDK (OPENAI_BASE_URL). */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  /** Requests being answered right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queues answers for the next requests, in order. */
  reply(...replies: FakeReply[]): void {
    this.#script.push(...replies);
  }

  setDefaultReply(reply: FakeReply): void {
    this.#defaultReply = reply;
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    response.on('close', () => (this.#inFlight -= 1));
    const text = await readBody(request);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Recorded as empty; the SDK always sends JSON.
    }
    const path = (request.url ?? '/').split('?')[0]!;
    this.requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body });

    if (request.method !== 'POST' || path !== '/v1/images/generations') {
      sendJson(response, 404, { error: { message: `Unknown request URL: ${request.method} ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
      return;
    }
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (this.#apiKey !== undefined && token !== this.#apiKey) {
      sendJson(response, 401, {
        error: {
          message: `Incorrect API key provided: ${maskKey(token)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      return;
    }
    const reply = this.#script.shift() ?? this.#defaultReply;
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          resolve();
        }, reply.delayMs);
        this.#timers.add(timer);
      });
    }
    if (response.destroyed) return;
    await this.#answer(reply, body, response);
  }

  async #answer(reply: FakeReply, body: Record<string, unknown>, response: ServerResponse): Promise<void> {
    switch (reply.kind) {
      case 'image': {
        const requested = typeof body.size === 'string' ? /^(\d+)x(\d+)$/.exec(body.size) : null;
        const width = reply.width ?? (requested ? Number(requested[1]) : 1024);
        const height = reply.height ?? (requested ? Number(requested[2]) : 1024);
        const isGptImage = String(body.model ?? '').startsWith('gpt-image');
        // As the real API: GPT image models refuse response_format, DALL-E answers with a URL unless asked for b64_json.
        if (isGptImage && body.response_format !== undefined) {
          sendJson(response, 400, { error: { message: "Unknown parameter: 'response_format'.", type: 'invalid_request_error', param: 'response_format', code: 'unknown_parameter' } });
          return;
        }
        const requestedFormat = body.output_format === 'jpeg' || body.output_format === 'webp' ? body.output_format : 'png';
        const format = reply.format ?? requestedFormat;
        const b64 = format === 'png' ? pngBase64(width, height) : await encodedBase64(format, width, height);
        const image = !isGptImage && body.response_format !== 'b64_json' ? { url: 'https://images.example.invalid/generated.png' } : { b64_json: b64 };
        const quality = typeof body.quality === 'string' && body.quality !== 'auto' ? body.quality : 'high';
        const usage = reply.usage === undefined ? fakeUsage(String(body.prompt ?? ''), quality, width, height) : reply.usage;
        if (response.destroyed) return;
        sendJson(response, 200, {
          created: Math.floor(Date.now() / 1000),
          data: [{ ...image, ...(reply.revisedPrompt !== undefined && { revised_prompt: reply.revisedPrompt }) }],
          ...(isGptImage && {
            background: body.background === 'transparent' ? 'transparent' : 'opaque',
            output_format: requestedFormat,
            quality,
            size: `${width}x${height}`,
            ...(usage !== null && { usage }),
          }),
        });
        return;
      }
      case 'error':
        sendJson(
          response,
          reply.status,
          { error: { message: reply.message ?? `error ${reply.status}`, type: reply.type ?? 'server_error', param: null, code: reply.code ?? null } },
          reply.headers,
        );
        return;
      case 'raw':
        response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
        response.end(reply.body);
    }
  }
}
