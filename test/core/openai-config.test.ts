import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';

describe('OpenAI configuration', () => {
  it('defaults to gpt-image-2, the model OpenAI names as the successor of the retired gpt-image ones', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test' }).openai).toMatchObject({ model: 'gpt-image-2', allowedModels: ['gpt-image-2'] });
  });

  it('takes OPENAI_IMAGE_MODEL first and OPENAI_IMAGE_MODELS after it, once each', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_IMAGE_MODEL: 'gpt-image-1', OPENAI_IMAGE_MODELS: 'dall-e-3, gpt-image-1' });
    expect(config.openai).toMatchObject({ model: 'gpt-image-1', allowedModels: ['gpt-image-1', 'dall-e-3'] });
  });
});
