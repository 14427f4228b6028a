import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generationOptionsOf, modelPolicyOf, openContext, type Context, type ContextOverrides } from '../../src/cli/compose.js';
import { loadConfig } from '../../src/core/config.js';
import type { ImageDetail } from '../../src/core/models/image.js';
import { LocalImageGenerator } from '../../src/service/generation/index.js';
import { silentLogger } from '../../src/core/service-logger.js';
import { buildApp, type AppOptions } from '../../src/web/app.js';
import { makeImageInput } from './factories.js';

/** Cheap scrypt for tests: the parameters travel with each hash, so verification is unchanged. */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface TestApp {
  app: FastifyInstance;
  context: Context;
  dir: string;
  /** Adds a user and returns the `Authorization` header value for it. */
  addUser(username?: string, password?: string, isAdmin?: boolean): Promise<string>;
  /** Creates an image through POST /image as the given user; throws unless it answers 201. */
  createImage(authorization: string, input?: { prompt: string; tags?: string[] }): Promise<ImageDetail>;
  close(): Promise<void>;
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export interface TestAppOptions extends ContextOverrides {
  /** Extra environment on top of a temp DATA_DIR. */
  env?: Record<string, string>;
  app?: Partial<AppOptions>;
}

/**
 * The real app on a temp SQLite file and image directory, with a small local generator (64x64, so
 * tests stay fast) unless another one is given. Call close() in afterEach/afterAll.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'pixyproxy-test-'));
  // Limits high enough that ordinary tests never meet them; the rate-limit tests set their own.
  const config = loadConfig({ DATA_DIR: dir, CREATE_RATE_LIMIT: '1000000', AUTH_FAILURE_LIMIT: '1000000', ...options.env });
  // A logger given for the app also receives what the services log.
  const context = await openContext(config, options.app?.logger ?? silentLogger, {
    generator: options.generator ?? new LocalImageGenerator({ width: 64, height: 64 }),
    scrypt: options.scrypt ?? TEST_SCRYPT,
    ...(options.resizer && { resizer: options.resizer }),
  });
  const app = await buildApp(context.services, {
    createRateLimit: config.createRateLimit,
    ...(context.rateLimitStore && { rateLimitStore: context.rateLimitStore }),
    contentDelivery: { mode: config.storage.contentDelivery, presignExpiresSeconds: config.storage.presignExpiresSeconds },
    publicBaseUrl: config.publicBaseUrl,
    imageModels: modelPolicyOf(config).allowedModels,
    generationOptions: generationOptionsOf(config),
    ...options.app,
  });
  await app.ready();
  return {
    app,
    context,
    dir,
    async addUser(username = 'alice', password = 'correct horse battery', isAdmin = false) {
      await context.services.access.addUser(username, password, { isAdmin });
      return basicHeader(username, password);
    },
    async createImage(authorization, input = makeImageInput()) {
      const response = await app.inject({ method: 'POST', url: '/image', headers: { authorization }, payload: input });
      if (response.statusCode !== 201) throw new Error(`POST /image answered ${response.statusCode}: ${response.body}`);
      return response.json<ImageDetail>();
    },
    async close() {
      await app.close();
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
