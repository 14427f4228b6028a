import type { FastifyBaseLogger } from 'fastify';
import { loadConfig } from '../../src/core/config.js';
import { createGenerator } from '../../src/service/generation/index.js';
import type { ServiceLogger } from '../../src/core/service-logger.js';
import type { FakeOpenAIServer } from './fake-openai-server.js';
import { createTestApp, type TestApp } from './test-app.js';

export const TEST_OPENAI_KEY = 'sk-test-4f9c2a7e1b3d5f60a8c4e2b1d9f7a3c5';

export interface OpenAITestAppOptions {
  /** Extra environment: OPENAI_IMAGE_MODEL, IMAGE_SIZE, OPENAI_TIMEOUT_MS, GENERATION_* ... */
  env?: Record<string, string>;
  /** Receives the app's and the generator's log lines. */
  logger?: FastifyBaseLogger & ServiceLogger;
}

/**
 * The real app with the generator built the way `serve` builds it (createGenerator from the
 * environment), the real openai SDK pointed at the fake through OPENAI_BASE_URL.
 */
export async function createOpenAITestApp(fake: FakeOpenAIServer, options: OpenAITestAppOptions = {}): Promise<TestApp> {
  const env = {
    IMAGE_GENERATOR: 'openai',
    OPENAI_API_KEY: TEST_OPENAI_KEY,
    OPENAI_BASE_URL: fake.url,
    OPENAI_TIMEOUT_MS: '2000',
    ...options.env,
  };
  const generator = await createGenerator(loadConfig(env), options.logger);
  return createTestApp({ env, generator, ...(options.logger && { app: { logger: options.logger } }) });
}
