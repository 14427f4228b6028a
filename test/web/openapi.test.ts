import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses?: Record<string, unknown>;
}

describe('GET /openapi.json', () => {
  it('documents the four image operations with their methods', async () => {
    const response = await t.app.inject({ url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json() as { openapi: string; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toMatch(/^3\./);
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, ...op })),
    );
    const byId = (id: string) => operations.find((op) => op.operationId === id);
    expect(byId('createImage')).toMatchObject({ method: 'post', path: expect.stringMatching(/^\/image\/?$/) });
    expect(byId('listImages')).toMatchObject({ method: 'get', path: expect.stringMatching(/^\/image\/?$/) });
    expect(byId('getImage')).toMatchObject({ method: 'get', path: '/image/{guid}' });
    expect(byId('getImageContent')).toMatchObject({ method: 'get', path: '/image/{guid}/content' });
  });

  it('marks exactly the private operations (writes, the job lookup, usage, /me, keys, /v1) as needing Basic auth or an API key, with their statuses', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
    const ops = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
    const create = ops.find((op) => op.operationId === 'createImage')!;
    expect(Object.keys(create.responses ?? {})).toEqual(expect.arrayContaining(['201', '202', '400', '401', '409', '413', '415', '422']));
    const either = [{ basicAuth: [] }, { bearerAuth: [] }];
    const security: Record<string, unknown> = {
      createImage: either,
      updateImageTags: either,
      deleteImage: either,
      getJob: either,
      listApiKeys: either,
      revokeApiKey: either,
      // A key cannot mint another key: creating one needs the password.
      createApiKey: [{ basicAuth: [] }],
      createOpenAIImages: [{ bearerAuth: [] }],
      listOpenAIModels: [{ bearerAuth: [] }],
      getUsage: either,
      getMe: either,
    };
    for (const op of ops) expect(op.security, op.operationId).toEqual(security[op.operationId ?? '']);
  });
});

describe('route schemas', () => {
  // They are compiled on each route's first use (web/schema-compilers.ts), so a schema that
  // fast-json-stringify or TypeBox cannot compile would otherwise fail only when that route answers.
  it('every validator and response serialiser compiles', async () => {
    const fresh = await createTestApp();
    try {
      await fresh.app.ready();
      expect(fresh.app.compileSchemas()).toBeGreaterThan(60);
      expect(fresh.app.compileSchemas()).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});

describe('GET /docs', () => {
  it('serves the docs UI', async () => {
    let response = await t.app.inject({ url: '/docs' });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      response = await t.app.inject({ url: new URL(response.headers['location'] as string, 'http://x/docs').pathname });
    }
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).toMatch(/swagger/i);
  });
});

describe('GET /openapi.json: PATCH and DELETE', () => {
  it('describes PATCH and DELETE /image/{guid} with Basic auth or an API key and every status they answer', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    const path = doc.paths['/image/{guid}'];
    expect(path.patch).toMatchObject({ operationId: 'updateImageTags', security: [{ basicAuth: [] }, { bearerAuth: [] }] });
    expect(path.delete).toMatchObject({ operationId: 'deleteImage', security: [{ basicAuth: [] }, { bearerAuth: [] }] });
    expect(path.patch.requestBody.content['application/json'].schema).toMatchObject({
      required: ['tags'],
      additionalProperties: false,
    });
    expect(Object.keys(path.patch.responses).sort()).toEqual(['200', '400', '401', '403', '404', '413', '415', '429', '500', '503']);
    expect(Object.keys(path.delete.responses).sort()).toEqual(['204', '400', '401', '403', '404', '413', '415', '429', '500', '503']);
    expect(path.delete.responses['204'].content).toBeUndefined();
    expect(path.patch.responses['403'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
  });
});
