// The page talks to the same public API as any client (docs/API.md); nothing here is private to it.

/** An image as `GET /image/{guid}` describes it (docs/API.md, ImageDetail). */
export interface ImageDetail {
  guid: string;
  prompt: string;
  filename: string;
  tags: string[];
  author: string;
  content_type: string;
  byte_size: number;
  model: string | null;
  size: string | null;
  revised_prompt: string | null;
  created_at: string;
  updated_at: string;
}

/** `GET /me`. */
export interface Me {
  username: string;
  admin: boolean;
}

/** An RFC 9457 problem as the server answers every error. */
export interface Problem {
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** A failed API call; `message` is what to show a person (the problem's detail). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface Credentials {
  username: string;
  password: string;
}

/** RFC 7617: `Basic base64(user:password)`, UTF-8 encoded first. */
export function basicAuthorization({ username, password }: Credentials): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = (await response.json()) as Problem;
    if (typeof body.title === 'string') return body;
  } catch {
    // Not JSON (a proxy's error page, say): fall through to the status line.
  }
  return { title: response.statusText || 'Request failed', status: response.status, detail: `The server answered ${response.status}` };
}

async function call(path: string, init: RequestInit & { credentials?: never }, auth?: Credentials): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  if (auth) headers.set('authorization', basicAuthorization(auth));
  let response: Response;
  try {
    // `omit`: the page never relies on cookies or the browser's HTTP-auth cache, and without
    // credentials mode the browser does not pop up its own Basic-auth dialog on a 401.
    response = await fetch(path, { ...init, headers, credentials: 'omit' });
  } catch {
    throw new ApiError({ title: 'Network error', status: 0, detail: 'The server could not be reached; try again.' });
  }
  if (!response.ok) throw new ApiError(await problemOf(response));
  return response;
}

/** The `rel="next"` target of a `Link` header (RFC 8288), if any. */
export function nextLinkOf(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

export interface ImagePage {
  images: ImageDetail[];
  next?: string;
}

/** One page of `GET /image`; `url` is either the first page's or a `Link: rel="next"` target. */
export async function listImages(url: string): Promise<ImagePage> {
  const response = await call(url, {});
  return { images: (await response.json()) as ImageDetail[], next: nextLinkOf(response.headers.get('link')) };
}

export async function getImage(guid: string): Promise<ImageDetail> {
  return (await call(`/image/${encodeURIComponent(guid)}`, {})).json() as Promise<ImageDetail>;
}

export async function getMe(auth: Credentials): Promise<Me> {
  return (await call('/me', {}, auth)).json() as Promise<Me>;
}

/** The options of `POST /image` a form lets a person choose; each is sent only when chosen. */
export const CHOSEN_OPTIONS = ['size', 'quality', 'background', 'output_format', 'style'] as const;
export type ChosenOption = (typeof CHOSEN_OPTIONS)[number];

/** One model's options as `GET /image/options` describes them (docs/API.md). */
export interface ModelOptions {
  model: string;
  max_prompt_length: number;
  size: { values: string[]; default: string | null; rule: string | null };
  quality: { values: string[]; default: string | null };
  background: { values: string[]; default: string | null };
  output_format: { values: string[]; default: string | null };
  moderation: { values: string[]; default: string | null };
  style: { values: string[]; default: string | null };
  output_compression: boolean;
}

/** `GET /image/options`: the models a create may name, the default first. */
export interface GenerationOptions {
  default_model: string;
  models: ModelOptions[];
}

export async function getGenerationOptions(): Promise<GenerationOptions> {
  return (await call('/image/options', {})).json() as Promise<GenerationOptions>;
}

/** Body of `POST /image`: the prompt, tags, and the options chosen (absent ones get the server's defaults). */
export type CreateImageBody = { prompt: string; tags: string[]; model?: string } & Partial<Record<ChosenOption, string>>;

export async function createImage(auth: Credentials, body: CreateImageBody): Promise<ImageDetail> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return (await call('/image', init, auth)).json() as Promise<ImageDetail>;
}

export async function updateTags(auth: Credentials, guid: string, tags: string[]): Promise<ImageDetail> {
  const init = { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags }) };
  return (await call(`/image/${encodeURIComponent(guid)}`, init, auth)).json() as Promise<ImageDetail>;
}

export async function deleteImage(auth: Credentials, guid: string): Promise<void> {
  await call(`/image/${encodeURIComponent(guid)}`, { method: 'DELETE' }, auth);
}

/** The thumbnail ladder of `GET /image/{guid}/content?w=` (docs/API.md). */
export const THUMBNAIL_WIDTHS = [128, 256, 512, 1024] as const;

export function contentUrl(guid: string, width?: number): string {
  const base = `/image/${encodeURIComponent(guid)}/content`;
  return width === undefined ? base : `${base}?w=${width}`;
}

export function thumbnailSrcset(guid: string): string {
  return THUMBNAIL_WIDTHS.map((w) => `${contentUrl(guid, w)} ${w}w`).join(', ');
}

/** Tags as a person types them: comma-separated; the server trims, lower-cases and de-duplicates. */
export function parseTags(text: string): string[] {
  return text.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
}
