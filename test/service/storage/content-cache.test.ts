import { describe, expect, it } from 'vitest';
import { ContentCache } from '../../../src/service/storage/index.js';

const bytes = (n: number, fill = 'x') => Buffer.alloc(n, fill);

/** A loader that counts its calls and answers after `release()`, so concurrent misses can overlap. */
function gatedLoader(result: Buffer | undefined) {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    load: async () => {
      calls++;
      await gate;
      return result;
    },
    release: () => release(),
    calls: () => calls,
  };
}

describe('ContentCache', () => {
  it('loads an image once and answers later requests from memory', async () => {
    const cache = new ContentCache(1000);
    const loader = gatedLoader(bytes(100));
    loader.release();
    expect((await cache.get('a', 100, loader.load))?.length).toBe(100);
    expect((await cache.get('a', 100, loader.load))?.length).toBe(100);
    expect(loader.calls()).toBe(1);
    expect(cache.size).toBe(100);
  });

  it('shares one load between concurrent misses of the same image', async () => {
    const cache = new ContentCache(1000);
    const loader = gatedLoader(bytes(100));
    const answers = Promise.all([1, 2, 3, 4].map(() => cache.get('a', 100, loader.load)));
    loader.release();
    expect((await answers).every((b) => b?.length === 100)).toBe(true);
    expect(loader.calls()).toBe(1);
  });

  it('drops the least recently served image when the total would pass the bound', async () => {
    const cache = new ContentCache(1000);
    const load = (fill: string) => async () => bytes(250, fill);
    await cache.get('a', 250, load('a'));
    await cache.get('b', 250, load('b'));
    await cache.get('c', 250, load('c'));
    await cache.get('d', 250, load('d'));
    await cache.get('a', 250, load('a')); // a is now the most recent, b the least
    await cache.get('e', 250, load('e'));
    expect(cache.size).toBe(1000);
    const reloaded = gatedLoader(bytes(250, 'b'));
    reloaded.release();
    await cache.get('b', 250, reloaded.load);
    expect(reloaded.calls()).toBe(1);
    const kept = gatedLoader(bytes(250, 'a'));
    await cache.get('a', 250, kept.load);
    expect(kept.calls()).toBe(0);
  });

  it('keeps nothing larger than a quarter of its bound, nothing when its bound is 0, and nothing of the wrong length', async () => {
    expect(new ContentCache(1000).admits(250)).toBe(true);
    expect(new ContentCache(1000).admits(251)).toBe(false);
    expect(new ContentCache(0).admits(1)).toBe(false);
    const cache = new ContentCache(1000);
    expect((await cache.get('a', 100, async () => bytes(99)))?.length).toBe(99);
    expect(cache.size).toBe(0);
  });

  it('keeps nothing when the load finds no bytes or fails, and tries again next time', async () => {
    const cache = new ContentCache(1000);
    expect(await cache.get('a', 100, async () => undefined)).toBeUndefined();
    await expect(cache.get('a', 100, async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect((await cache.get('a', 100, async () => bytes(100)))?.length).toBe(100);
    expect(cache.size).toBe(100);
  });
});
