import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { createGenerator } from '../../src/service/generation/index.js';
import type { ServiceLogger } from '../../src/core/service-logger.js';
import { FakeOpenAIServer, pngBase64 } from './fake-openai-server.js';
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
    // The suites' hand-computed usage and costs are for gpt-image-1 (not the server's default).
    OPENAI_IMAGE_MODEL: 'gpt-image-1',
    ...options.env,
  };
  const generator = await createGenerator(loadConfig(env), options.logger);
  return createTestApp({ env, generator, ...(options.logger && { app: { logger: options.logger } }) });
}

/** What useFakeOpenAI() hands a test file. */
export interface FakeOpenAISuite {
  /** The file's fake provider (accepting TEST_OPENAI_KEY); read it inside hooks and tests, once beforeAll has run. */
  readonly fake: FakeOpenAIServer;
}

/**
 * One fake OpenAI server for the test file, its hooks registered where this is called: started in
 * beforeAll with the PNGs of `pngSizes` (width, height in pixels) encoded up front so no single test
 * pays for them; before each test its recorded requests cleared and its default reply an image;
 * closed in afterAll.
 */
export function useFakeOpenAI(pngSizes: ReadonlyArray<readonly [number, number]> = []): FakeOpenAISuite {
  let fake: FakeOpenAIServer | undefined;
  beforeAll(async () => {
    fake = await FakeOpenAIServer.start({ apiKey: TEST_OPENAI_KEY });
    for (const [width, height] of pngSizes) pngBase64(width, height);
  });
  afterAll(() => fake?.close());
  beforeEach(() => {
    fake!.requests.length = 0;
    fake!.setDefaultReply({ kind: 'image' });
  });
  return {
    get fake(): FakeOpenAIServer {
      if (fake === undefined) throw new Error('useFakeOpenAI: the fake starts in beforeAll; read it from a hook or a test');
      return fake;
    },
  };
}
