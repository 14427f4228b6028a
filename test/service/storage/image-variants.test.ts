import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '../../../src/core/errors.js';
import {
  ImageStorage,
  ImageTooLargeError,
  ImageVariants,
  type ImageStore,
  SharpResizer,
  type VariantSource,
} from '../../../src/service/storage/index.js';
import { InMemoryImageStore } from '../../support/fakes.js';
import { GatedResizer } from '../../support/gated-resizer.js';

async function storedSource(store: InMemoryImageStore, name = 'a'): Promise<VariantSource> {
  const bytes = Buffer.from(`original ${name}`);
  await store.put(`${name}.png`, bytes);
  return { guid: name, object_store: store.kind, object_key: `${name}.png`, sha256: 'b'.repeat(64) };
}

/** The storage entry point over one in-memory store. */
function storageOf(store: InMemoryImageStore): ImageStorage {
  return new ImageStorage([store], 'file');
}

describe('ImageVariants', () => {
  it('shares one resize between concurrent requests for the same variant', async () => {
    const store = new InMemoryImageStore();
    const resizer = new GatedResizer();
    const variants = new ImageVariants(storageOf(store), resizer, { concurrency: 1, queue: 0 });
    const source = await storedSource(store);
    const first = variants.prepare(source, 128, 'image/webp');
    const second = variants.prepare(source, 128, 'image/webp');
    resizer.release();
    const [a, b] = await Promise.all([first, second]);
    expect(resizer.calls).toHaveLength(1);
    expect(a.byteSize).toBe(b.byteSize);
  });

  it('answers 503 with Retry-After once the running and waiting resizes are at their bounds', async () => {
    const store = new InMemoryImageStore();
    const resizer = new GatedResizer();
    const variants = new ImageVariants(storageOf(store), resizer, { concurrency: 1, queue: 1 });
    const source = await storedSource(store);
    const running = variants.prepare(source, 128, 'image/webp');
    const waiting = variants.prepare(source, 256, 'image/webp');
    const refused = variants.prepare(source, 512, 'image/webp');
    await expect(refused).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
    resizer.release();
    await Promise.all([running, waiting]);
    expect(resizer.calls.map((c) => c.width)).toEqual([128, 256]);
  });

  it('reads a variant made once from the store afterwards, without resizing again', async () => {
    const store = new InMemoryImageStore();
    const resizer = new GatedResizer();
    resizer.release();
    const source = await storedSource(store);
    await new ImageVariants(storageOf(store), resizer, { concurrency: 1, queue: 0 }).prepare(source, 256, 'image/avif');
    // A second instance (another process sharing the store) finds it.
    const again = await new ImageVariants(storageOf(store), resizer, { concurrency: 1, queue: 0 }).prepare(source, 256, 'image/avif');
    expect(resizer.calls).toHaveLength(1);
    const chunks: Buffer[] = [];
    for await (const chunk of await again.open()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('image/avif:256:original a');
  });

  it("keeps a variant in the store its original's row names, not the store new images go to", async () => {
    const files = new InMemoryImageStore();
    const bucket = Object.assign(new InMemoryImageStore(), { kind: 's3' }) as unknown as InMemoryImageStore & ImageStore;
    const resizer = new GatedResizer();
    resizer.release();
    await bucket.put('prefix/a.png', Buffer.from('original a'));
    const source: VariantSource = { guid: 'a', object_store: 's3', object_key: 'prefix/a.png', sha256: 'b'.repeat(64) };
    await new ImageVariants(new ImageStorage([files, bucket], 'file'), resizer, { concurrency: 1, queue: 0 }).prepare(source, 128, 'image/webp');
    expect([...bucket.files.keys()].sort()).toEqual(['prefix/a.png', 'prefix/a.png.w128.v1.webp']);
    expect(files.files.size).toBe(0);
  });

  it('names every location a variant of an original can have, in its store, all led by the original key', () => {
    const locations = ImageVariants.locationsOf({ object_store: 's3', object_key: 'p/a.png' });
    const keys = locations.map((location) => location.object_key);
    expect(keys).toContain('p/a.png.w128.v1.avif');
    expect(keys).toContain('p/a.png.w1024.v1.webp');
    expect(keys.every((key: string) => key.startsWith('p/a.png.w'))).toBe(true);
    expect(locations.every((location) => location.object_store === 's3')).toBe(true);
  });
});

/** A PNG whose header claims `width` x `height` grey pixels but whose data is a few bytes: a decompression bomb. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('SharpResizer', () => {
  it('refuses an original over the pixel cap from its header, before decoding it', async () => {
    const resizer = new SharpResizer(50_000_000);
    await expect(resizer.resize(bombPng(60_000, 60_000), { width: 128, mediaType: 'image/webp' })).rejects.toBeInstanceOf(ImageTooLargeError);
  });

  it('resizes to the width, keeping the aspect ratio, in the asked format', async () => {
    const original = await sharp({ create: { width: 400, height: 100, channels: 3, background: '#336699' } }).png().toBuffer();
    const bytes = await new SharpResizer(50_000_000).resize(original, { width: 128, mediaType: 'image/avif' });
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['heif', 128, 32]);
  });
});
