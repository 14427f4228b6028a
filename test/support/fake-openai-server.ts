import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';

/** One scripted answer of the fake. Every kind may be delayed. */
export type FakeReply =
  | { kind: 'image'; width?: number; height?: number; revisedPrompt?: string; delayMs?: number }
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
    this.#answer(reply, body, response);
  }

  #answer(reply: FakeReply, body: Record<string, unknown>, response: ServerResponse): void {
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
        const image = !isGptImage && body.response_format !== 'b64_json'
          ? { url: 'https://images.example.invalid/generated.png' }
          : { b64_json: pngBase64(width, height) };
        sendJson(response, 200, {
          created: Math.floor(Date.now() / 1000),
          data: [{ ...image, ...(reply.revisedPrompt !== undefined && { revised_prompt: reply.revisedPrompt }) }],
          ...(isGptImage && {
            output_format: 'png',
            size: `${width}x${height}`,
            usage: { input_tokens: 12, output_tokens: 4160, total_tokens: 4172, input_tokens_details: { image_tokens: 0, text_tokens: 12 } },
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
