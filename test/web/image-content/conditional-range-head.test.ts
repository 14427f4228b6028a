import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONE_MIB_SIDE } from '../../../scripts/noise-png.js';
import { makeImageInput, PNG_SIGNATURE } from '../../support/factories.js';
import { NoiseImageGenerator } from '../../support/noise-generator.js';
import { rawExchange as rawExchangeOn } from '../../support/raw-http.js';
import { createTestApp, type TestApp } from '../../support/test-app.js';

// One server over a real socket for the whole file: conditional, range and HEAD behaviour depends on
// the bytes that actually cross the wire, which app.inject() would not show.
let t: TestApp;
let base: string;
let port: number;
let guid: string;
let bytes: Buffer;
let etag: string;
let lastModified: string;
let prompt: string;

beforeAll(async () => {
  t = await createTestApp({ generator: new NoiseImageGenerator(ONE_MIB_SIDE) });
  const auth = await t.addUser();
  const input = makeImageInput();
  prompt = input.prompt;
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  guid = (await t.createImage(auth, input)).guid;
  const full = await fetch(`${base}/image/${guid}/content`);
  bytes = Buffer.from(await full.arrayBuffer());
  etag = full.headers.get('etag')!;
  lastModified = full.headers.get('last-modified')!;
});
afterAll(async () => {
  // fetch pools keep-alive connections and Fastify advertises a 72 s keep-alive; some of them are not
  // seen as idle by app.close(), which would then wait the whole timeout. Every response is complete
  // by now, so drop them.
  t.app.server.closeAllConnections();
  await t.close();
});

const content = () => `${base}/image/${guid}/content`;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

const rawExchange = (method: string, path: string, headers: Record<string, string> = {}) => rawExchangeOn(port, method, path, headers);

/**
 * Conditional requests are evaluated in UTC and in zones on either side of it: a date parsed as local
 * time passes in UTC and fails east of it (Asia/Tokyo) or west (America/Los_Angeles), depending on
 * the comparison. Node applies a change of process.env.TZ at once.
 */
const TIME_ZONES = ['UTC', 'Asia/Tokyo', 'America/Los_Angeles'];
function useTimeZone(timeZone: string) {
  let previous: string | undefined;
  beforeAll(() => {
    previous = process.env['TZ'];
    process.env['TZ'] = timeZone;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env['TZ'];
    else process.env['TZ'] = previous;
  });
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const rfc850 = (d: Date) =>
  `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} ${clock(d)} GMT`;
/** `Sun Nov  6 08:49:37 1994` */
const asctime = (d: Date) =>
  `${DAYS[d.getUTCDay()]!.slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)} ${d.getUTCFullYear()}`;


describe('GET /image/{guid}/content over a real socket', () => {
  it('streams a 1 MiB image byte for byte, with the sha-256 it was stored with', async () => {
    const response = await fetch(content());
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(body.length).toBeGreaterThanOrEqual(1024 * 1024);
    expect(Number(response.headers.get('content-length'))).toBe(body.length);
    expect(body.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const generated = await new NoiseImageGenerator(ONE_MIB_SIDE).generate(prompt);
    expect(sha256(body)).toBe(sha256(generated.bytes));
    expect(response.headers.get('etag')).toBe(`"${sha256(body)}"`);
  });

  it('sends validators, immutable caching, Accept-Ranges and nosniff', async () => {
    const response = await fetch(content());
    await response.arrayBuffer();
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
    expect(new Date(response.headers.get('last-modified')!).toUTCString()).toBe(response.headers.get('last-modified'));
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-type')).toBe('image/png');
  });
});

describe.each(TIME_ZONES)('conditional GET with the server in TZ=%s', (timeZone) => {
  useTimeZone(timeZone);

  it.each([
    ['the exact entity tag', () => etag],
    ['a list holding the entity tag', () => `"0000", ${etag}, "ffff"`],
    ['the weak form of the entity tag', () => `W/${etag}`],
    ['*', () => '*'],
  ])('answers 304 with no body and the validators for If-None-Match: %s', async (_label, value) => {
    const { head, headers, body } = await rawExchange('GET', `/image/${guid}/content`, { 'If-None-Match': value() });
    expect(head).toMatch(/^HTTP\/1\.1 304 /);
    expect(body.length).toBe(0);
    expect(headers['etag']).toBe(etag);
    expect(headers['last-modified']).toBe(lastModified);
    expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers 200 with the bytes when If-None-Match names another entity tag', async () => {
    const response = await fetch(content(), { headers: { 'if-none-match': '"0000000000"' } });
    expect(response.status).toBe(200);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('answers 304 when If-Modified-Since is at or after Last-Modified', async () => {
    const later = new Date(Date.parse(lastModified) + 60_000).toUTCString();
    for (const since of [lastModified, later]) {
      const { head, body } = await rawExchange('GET', `/image/${guid}/content`, { 'If-Modified-Since': since });
      expect(head).toMatch(/^HTTP\/1\.1 304 /);
      expect(body.length).toBe(0);
    }
  });

  it('answers 200 with the bytes when If-Modified-Since is before Last-Modified', async () => {
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const response = await fetch(content(), { headers: { 'if-modified-since': earlier } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).length).toBe(bytes.length);
  });

  it('ignores If-Modified-Since when If-None-Match is present and does not match', async () => {
    const response = await fetch(content(), { headers: { 'if-none-match': '"other"', 'if-modified-since': lastModified } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });
  // The same instant as Last-Modified in each HTTP-date form of RFC 9110 5.6.7.
  it.each([
    ['IMF-fixdate', () => lastModified],
    ['RFC 850', () => rfc850(new Date(lastModified))],
    ['asctime', () => asctime(new Date(lastModified))],
  ])('answers 304 for If-Modified-Since equal to Last-Modified in %s form', async (_form, since) => {
    const { head } = await rawExchange('GET', `/image/${guid}/content`, { 'If-Modified-Since': since() });
    expect(head).toMatch(/^HTTP\/1\.1 304 /);
  });

  it.each([
    ['an ISO 8601 date', '2099-01-01'],
    ['a bare year', '2099'],
    ['a date in another zone', 'Thu, 01 Jan 2099 00:00:00 PST'],
    ['a lower-case zone', 'Thu, 01 Jan 2099 00:00:00 gmt'],
    ['an impossible day', 'Tue, 31 Feb 2099 00:00:00 GMT'],
    ['an impossible hour', 'Thu, 01 Jan 2099 24:00:00 GMT'],
    ['asctime with a zone', 'Thu Jan  1 00:00:00 2099 GMT'],
  ])('ignores If-Modified-Since that is not an HTTP-date (%s) and answers 200', async (_label, since) => {
    const { head } = await rawExchange('GET', `/image/${guid}/content`, { 'If-Modified-Since': since });
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('honours If-Range given as the asctime form of Last-Modified', async () => {
    const response = await fetch(content(), { headers: { range: 'bytes=0-9', 'if-range': asctime(new Date(lastModified)) } });
    await response.arrayBuffer();
    expect(response.status).toBe(206);
  });
});

describe('HEAD', () => {
  it('sends the same headers and Content-Length as GET and no body', async () => {
    const get = await rawExchange('GET', `/image/${guid}/content`);
    const head = await rawExchange('HEAD', `/image/${guid}/content`);
    expect(head.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.body.length).toBe(0);
    for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'cache-control', 'accept-ranges']) {
      expect(head.headers[name], name).toBe(get.headers[name]);
    }
    expect(Number(head.headers['content-length'])).toBe(bytes.length);
  });

  // RFC 9110 14.2: a server ignores Range for any method other than GET.
  it.each([['bytes=0-7'], ['bytes=-50'], [`bytes=${Number.MAX_SAFE_INTEGER}-`]])(
    'ignores Range: %s and answers 200 with the full Content-Length and no Content-Range',
    async (range) => {
      const head = await rawExchange('HEAD', `/image/${guid}/content`, { Range: range });
      expect(head.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(Number(head.headers['content-length'])).toBe(bytes.length);
      expect(head.headers['content-range']).toBeUndefined();
      expect(head.body.length).toBe(0);
    },
  );

  it('answers 404 for an unknown guid', async () => {
    const head = await fetch(`${base}/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41/content`, { method: 'HEAD' });
    await head.arrayBuffer();
    expect(head.status).toBe(404);
  });
});

describe('Range', () => {
  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=100-', 100, -1],
    ['bytes=-50', -50, -1],
  ])('answers %s with 206, its Content-Range and exactly those bytes', async (range, first, last) => {
    const size = bytes.length;
    const start = first < 0 ? size + first : first;
    const end = last < 0 ? size - 1 : last;
    const response = await fetch(content(), { headers: { range } });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
    expect(Number(response.headers.get('content-length'))).toBe(end - start + 1);
    expect(body.equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  it('answers a range starting at the size with 416 problem+json and Content-Range: bytes */size', async () => {
    const response = await fetch(content(), { headers: { range: `bytes=${bytes.length}-` } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    expect(await response.json()).toMatchObject({ status: 416, error: 'RangeNotSatisfiableError' });
  });

  it('sends no cache validators with a 416: an error body must not be cached as immutable', async () => {
    const response = await fetch(content(), { headers: { range: `bytes=${bytes.length + 10}-` } });
    await response.arrayBuffer();
    expect(response.status).toBe(416);
    expect(response.headers.get('cache-control')).toBeNull();
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('last-modified')).toBeNull();
  });

  it('answers a multi-range request with the whole image (200)', async () => {
    const response = await fetch(content(), { headers: { range: 'bytes=0-9,20-29' } });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-range')).toBeNull();
    expect(body.equals(bytes)).toBe(true);
  });

  it('honours Range when If-Range matches the entity tag or the date', async () => {
    for (const ifRange of [etag, lastModified]) {
      const response = await fetch(content(), { headers: { range: 'bytes=0-9', 'if-range': ifRange } });
      const body = Buffer.from(await response.arrayBuffer());
      expect(response.status).toBe(206);
      expect(body.equals(bytes.subarray(0, 10))).toBe(true);
    }
  });

  it('answers the whole image when If-Range does not match', async () => {
    const stale = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    for (const ifRange of ['"stale"', stale]) {
      const response = await fetch(content(), { headers: { range: 'bytes=0-9', 'if-range': ifRange } });
      const body = Buffer.from(await response.arrayBuffer());
      expect(response.status).toBe(200);
      expect(body.length).toBe(bytes.length);
    }
  });
});
