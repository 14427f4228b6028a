import { describe, expect, it } from 'vitest';
import { ImageGenerationError, ServiceUnavailableError } from '../../../src/core/errors.js';
import { GenerationLimiter } from '../../../src/service/generation/index.js';
import type { GeneratedImage, ImageGenerator } from '../../../src/service/generation/index.js';

/** A generator whose calls finish only when the test says so. */
class ControlledGenerator implements ImageGenerator {
  readonly name = 'controlled';
  readonly started: string[] = [];
  readonly #pending = new Map<string, { resolve: (image: GeneratedImage) => void; reject: (error: unknown) => void }>();

  generate(prompt: string): Promise<GeneratedImage> {
    this.started.push(prompt);
    return new Promise((resolve, reject) => this.#pending.set(prompt, { resolve, reject }));
  }

  finish(prompt: string): void {
    this.#pending.get(prompt)!.resolve({ bytes: Buffer.from(prompt), contentType: 'image/png' as const, extension: 'png' as const, width: 1, height: 1, model: 'controlled', revisedPrompt: null, quality: null, background: null, outputFormat: 'png' as const, usage: null });
  }

  fail(prompt: string): void {
    this.#pending.get(prompt)!.reject(new ImageGenerationError('failed'));
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function refusal(attempt: Promise<GeneratedImage>): Promise<ServiceUnavailableError> {
  const error = await attempt.then(() => undefined, (reason: unknown) => reason);
  if (!(error instanceof ServiceUnavailableError)) throw new Error(`expected a ServiceUnavailableError, got ${String(error)}`);
  return error;
}

describe('GenerationLimiter', () => {
  it('runs at most `concurrency` generations and starts waiters in arrival order', async () => {
    const inner = new ControlledGenerator();
    const limiter = new GenerationLimiter(inner, { concurrency: 2, queue: 5 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((prompt) => limiter.generate(prompt));
    await tick();
    expect(inner.started).toEqual(['a', 'b']);
    expect([limiter.active, limiter.queued]).toEqual([2, 3]);

    inner.finish('b');
    await tick();
    expect(inner.started).toEqual(['a', 'b', 'c']);
    inner.finish('a');
    await tick();
    expect(inner.started).toEqual(['a', 'b', 'c', 'd']);
    for (const prompt of ['c', 'd']) inner.finish(prompt);
    await tick();
    inner.finish('e');
    expect((await Promise.all(results)).map((image) => image.bytes.toString())).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('refuses with ServiceUnavailableError once the queue is full, without calling the generator', async () => {
    const inner = new ControlledGenerator();
    const limiter = new GenerationLimiter(inner, { concurrency: 1, queue: 1 });
    void limiter.generate('running');
    void limiter.generate('waiting');
    await expect(limiter.generate('refused')).rejects.toBeInstanceOf(ServiceUnavailableError);
    await tick();
    expect(inner.started).toEqual(['running']);
  });

  it('refuses at once when all slots are busy and the queue size is 0', async () => {
    const limiter = new GenerationLimiter(new ControlledGenerator(), { concurrency: 1, queue: 0 });
    void limiter.generate('running');
    await expect(limiter.generate('refused')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('suggests a Retry-After of about one recent generation, 5 s before any has finished', async () => {
    let now = 0;
    const inner = new ControlledGenerator();
    const limiter = new GenerationLimiter(inner, { concurrency: 1, queue: 0 }, () => now);
    const first = limiter.generate('first');
    const early = await refusal(limiter.generate('early'));
    expect(early.retryAfterSeconds).toBe(5);

    now = 12_300;
    inner.finish('first');
    await first;
    void limiter.generate('second');
    const later = await refusal(limiter.generate('later'));
    expect(later.retryAfterSeconds).toBe(13);
  });

  it('frees the slot of a failed generation for the next waiter', async () => {
    const inner = new ControlledGenerator();
    const limiter = new GenerationLimiter(inner, { concurrency: 1, queue: 1 });
    const failing = limiter.generate('failing');
    const next = limiter.generate('next');
    await tick();
    inner.fail('failing');
    await expect(failing).rejects.toBeInstanceOf(ImageGenerationError);
    await tick();
    expect(inner.started).toEqual(['failing', 'next']);
    inner.finish('next');
    await expect(next).resolves.toMatchObject({ model: 'controlled' });
  });
});
