import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openContext } from '../../../src/cli/compose.js';
import { loadConfig } from '../../../src/core/config.js';
import { ConfigurationError } from '../../../src/core/errors.js';
import { createGenerator } from '../../../src/service/generation/index.js';
import { silentLogger } from '../../../src/core/service-logger.js';

const KEY = 'sk-test-config-0123456789';

function generatorFor(env: Record<string, string>) {
  return createGenerator(loadConfig({ DATA_DIR: '/tmp/unused', ...env }));
}

describe('choosing the image generator', () => {
  it('refuses IMAGE_GENERATOR=openai without a key, naming OPENAI_API_KEY', () => {
    expect(() => loadConfig({ IMAGE_GENERATOR: 'openai' })).toThrow(ConfigurationError);
    expect(() => loadConfig({ IMAGE_GENERATOR: 'openai' })).toThrow(/OPENAI_API_KEY/);
  });

  it('uses OpenAI by default when a key is set, and the local generator otherwise', async () => {
    expect((await generatorFor({ OPENAI_API_KEY: KEY })).name).toBe('openai');
    expect((await generatorFor({})).name).toBe('local');
    expect((await generatorFor({ OPENAI_API_KEY: KEY, IMAGE_GENERATOR: 'local' })).name).toBe('local');
  });

  it.each(['10x10', '4096x4096', '16x2049'])('refuses IMAGE_SIZE %s for the local generator at start-up, as a create would', async (size) => {
    const attempt = generatorFor({ IMAGE_SIZE: size });
    await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
    await expect(attempt).rejects.toThrow(new RegExp(`IMAGE_SIZE "${size}" does not fit the local generator: it must have a width and height from 16 to 2048`));
  });

  it.each(['16x16', '2048x2048', '1024x768'])('accepts IMAGE_SIZE %s for the local generator', async (size) => {
    await expect(generatorFor({ IMAGE_SIZE: size })).resolves.toMatchObject({ name: 'local' });
  });

  it.each([
    ['dall-e-2', '1024x1792'],
    ['dall-e-3', '512x512'],
    ['gpt-image-1', '1792x1024'],
    ['gpt-image-2', '1000x1000'],
    ['gpt-image-2', '4096x1024'],
  ])('refuses %s with IMAGE_SIZE %s at start-up, naming both variables', async (model, size) => {
    const attempt = generatorFor({ OPENAI_API_KEY: KEY, OPENAI_IMAGE_MODEL: model, IMAGE_SIZE: size });
    await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
    await expect(attempt).rejects.toThrow(new RegExp(`IMAGE_SIZE "${size}".*OPENAI_IMAGE_MODEL ${model}`));
  });

  it.each([
    ['dall-e-2', '512x512'],
    ['dall-e-3', '1024x1792'],
    ['gpt-image-1', '1536x1024'],
    ['gpt-image-1-mini', '1024x1536'],
    ['gpt-image-2', '1536x864'],
  ])('accepts %s with IMAGE_SIZE %s', async (model, size) => {
    await expect(generatorFor({ OPENAI_API_KEY: KEY, OPENAI_IMAGE_MODEL: model, IMAGE_SIZE: size })).resolves.toMatchObject({ name: 'openai' });
  });

  it('refuses a model whose parameters it does not know, naming OPENAI_IMAGE_MODEL', async () => {
    await expect(generatorFor({ OPENAI_API_KEY: KEY, OPENAI_IMAGE_MODEL: 'stable-diffusion-xl' })).rejects.toThrow(/OPENAI_IMAGE_MODEL "stable-diffusion-xl"/);
  });
});

describe('starting the service with a misconfigured OpenAI generator', () => {
  it('fails while opening the context, naming IMAGE_SIZE, as `serve` does at start-up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-start-'));
    try {
      const config = loadConfig({ DATA_DIR: dir, OPENAI_API_KEY: KEY, OPENAI_IMAGE_MODEL: 'dall-e-3', IMAGE_SIZE: '512x512' });
      await expect(openContext(config, silentLogger)).rejects.toThrow(/IMAGE_SIZE "512x512" does not fit/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
