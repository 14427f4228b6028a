import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalImageGenerator } from '../../src/service/generation/index.js';
import { SharpResizer } from '../../src/service/storage/index.js';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { GatedResizer } from '../support/gated-resizer.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// The originals are 300x200 so every rung below and above the original's width is exercised.
let t: TestApp;
let auth: string;
let guid: string;

beforeEach(async () => {
  t = await createTestApp({ generator: new LocalImageGenerator({ width: 300, height: 200 }) });
  auth = await t.addUser();
  ({ guid } = await t.createImage(auth));
});
afterEach(() => t.close());

const thumb = (w: number | string, accept?: string, extra: Record<string, string> = {}) =>
  t.app.inject({ url: `/image/${guid}/content?w=${w}`, headers: { ...(accept && { accept }), ...extra } });

describe('GET /image/{guid}/content?w=', () => {
  it('answers AVIF when Accept names it, resized to the width, with Vary: Accept', async () => {
    const response = await thumb(128, 'image/avif,image/webp,image/*,*/*;q=0.8');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/avif');
    expect(response.headers['vary']).toBe('Accept');
    const meta = await sharp(response.rawPayload).metadata();
    expect(meta.format).toBe('heif');
    expect([meta.width, meta.height]).toEqual([128, 85]);
  });

  it('answers WebP when Accept names WebP but not AVIF', async () => {
    const response = await thumb(256, 'image/webp,*/*');
    expect(response.headers['content-type']).toBe('image/webp');
    expect((await sharp(response.rawPayload).metadata()).format).toBe('webp');
  });

  it("answers the original's format when Accept names neither (wildcards do not count)", async () => {
    const response = await thumb(256, 'image/*,*/*;q=0.8');
    expect(response.headers['content-type']).toBe('image/png');
    expect((await sharp(response.rawPayload).metadata()).width).toBe(256);
  });

  it('ignores a format the client refuses with q=0', async () => {
    const response = await thumb(128, 'image/avif;q=0, image/webp');
    expect(response.headers['content-type']).toBe('image/webp');
  });

  it('is never larger than the original', async () => {
    const response = await thumb(1024, 'image/webp');
    expect(response.statusCode).toBe(200);
    const meta = await sharp(response.rawPayload).metadata();
    expect([meta.width, meta.height]).toEqual([300, 200]);
  });

  it('answers 400 listing the allowed widths for any other w', async () => {
    for (const w of ['100', '0', '2048', 'abc', '256.5', '0256', '128&w=256']) {
      const body = expectProblem(await thumb(w), 400, 'DataValidationError');
      expect(errorPaths(body)).toEqual(['/querystring/w']);
      if (w === '100') expect(body.detail).toContain('128, 256, 512, 1024');
    }
  });

  it('gives each variant its own strong ETag, different from the original and from each other', async () => {
    const original = await t.app.inject({ url: `/image/${guid}/content` });
    const tags = new Set([original.headers['etag']]);
    for (const [w, accept] of [[128, 'image/avif'], [128, 'image/webp'], [128, undefined], [256, 'image/avif']] as const) {
      const response = await thumb(w, accept);
      expect(response.headers['etag']).toMatch(/^"[0-9a-f]{64}"$/);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      tags.add(response.headers['etag']);
    }
    expect(tags.size).toBe(5);
  });

  it('answers 304 to If-None-Match with the variant ETag, keeping Vary', async () => {
    const first = await thumb(256, 'image/webp');
    const again = await thumb(256, 'image/webp', { 'if-none-match': String(first.headers['etag']) });
    expect(again.statusCode).toBe(304);
    expect(again.headers['vary']).toBe('Accept');
    expect(again.headers['etag']).toBe(first.headers['etag']);
    expect(again.rawPayload.length).toBe(0);
  });

  it('answers the same bytes on every request, from the copy kept in the image store', async () => {
    const first = await thumb(512, 'image/avif');
    const stored = (await readdir(t.context.config.imageDir)).filter((name) => name.startsWith(guid));
    expect(stored).toEqual(expect.arrayContaining([`${guid}.png`, expect.stringMatching(new RegExp(`^${guid}\\.png\\.w512\\.v\\d+\\.avif$`))]));
    const second = await thumb(512, 'image/avif');
    expect(second.rawPayload.equals(first.rawPayload)).toBe(true);
    expect(second.headers['content-length']).toBe(String(first.rawPayload.length));
  });

  it('answers a Range with 206 and that slice of the variant', async () => {
    const whole = await thumb(128, 'image/webp');
    const part = await thumb(128, 'image/webp', { range: 'bytes=0-9' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-9/${whole.rawPayload.length}`);
    expect(part.rawPayload.equals(whole.rawPayload.subarray(0, 10))).toBe(true);
  });

  it('answers HEAD with the headers of GET and no body, also before the variant exists', async () => {
    const head = await t.app.inject({ method: 'HEAD', url: `/image/${guid}/content?w=256`, headers: { accept: 'image/avif' } });
    const get = await thumb(256, 'image/avif');
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(get.rawPayload.length));
    expect(head.headers['etag']).toBe(get.headers['etag']);
    expect(head.headers['vary']).toBe('Accept');
    expect(head.rawPayload.length).toBe(0);
  });

  it('answers 404 problem+json for an unknown guid', async () => {
    const response = await t.app.inject({ url: '/image/3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41/content?w=128' });
    expectProblem(response, 404, 'RecordNotFoundError');
  });

  it('removes the variants with the image', async () => {
    await thumb(128, 'image/avif');
    await thumb(256, 'image/webp');
    const deleted = await t.app.inject({ method: 'DELETE', url: `/image/${guid}`, headers: { authorization: auth } });
    expect(deleted.statusCode).toBe(204);
    expect((await readdir(t.context.config.imageDir)).filter((name) => name.startsWith(guid))).toEqual([]);
  });
});

describe('GET /image/{guid}/content?w= with a pixel cap', () => {
  it('answers 500 problem+json instead of decoding an original over THUMBNAIL_MAX_INPUT_PIXELS', async () => {
    const capped = await createTestApp({ env: { THUMBNAIL_MAX_INPUT_PIXELS: '1000' } });
    try {
      const image = await capped.createImage(await capped.addUser());
      const response = await capped.app.inject({ url: `/image/${image.guid}/content?w=128` });
      const body = expectProblem(response, 500, 'InternalServerError');
      expect(body.detail).toBe('This image is too large to make a thumbnail of');
    } finally {
      await capped.close();
    }
  });
});

describe('GET /image/{guid}/content?w= with the resize bound full', () => {
  it('answers 503 problem+json with Retry-After for a thumbnail not yet made, while the original and kept thumbnails are served', async () => {
    // One resize at a time and none waiting; the gate holds the one that runs, so the bound is full
    // for exactly as long as the test says.
    const resizer = new GatedResizer(new SharpResizer(50_000_000), { closed: false });
    const bound = await createTestApp({ env: { THUMBNAIL_CONCURRENCY: '1', THUMBNAIL_QUEUE: '0' }, resizer });
    try {
      const image = await bound.createImage(await bound.addUser());
      const get = (query = '') => bound.app.inject({ url: `/image/${image.guid}/content${query}`, headers: { accept: 'image/webp' } });
      expect((await get('?w=128')).statusCode).toBe(200);

      resizer.close();
      const running = get('?w=512');
      await resizer.held;
      const refused = await get('?w=256');
      const body = expectProblem(refused, 503, 'ServiceUnavailableError');
      expect(refused.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(body.detail).toBe('Too many thumbnails are being made right now; try again shortly');
      const original = await get();
      expect(original.statusCode).toBe(200);
      expect(original.rawPayload.length).toBe(image.byte_size);
      expect((await get('?w=128')).statusCode).toBe(200);

      resizer.release();
      expect((await running).statusCode).toBe(200);
      expect((await get('?w=256')).statusCode).toBe(200);
    } finally {
      await bound.close();
    }
  });
});
