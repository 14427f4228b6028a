import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeImageInput } from '../support/factories.js';
import { FakeOpenAIServer } from '../support/fake-openai-server.js';
import { createOpenAITestApp, TEST_OPENAI_KEY } from '../support/openai-test-app.js';
import type { TestApp } from '../support/test-app.js';

let fake: FakeOpenAIServer;
let t: TestApp;

beforeAll(async () => {
  fake = await FakeOpenAIServer.start({ apiKey: TEST_OPENAI_KEY, defaultReply: { kind: 'image', delayMs: 400 } });
  t = await createOpenAITestApp(fake, {
    env: { OPENAI_IMAGE_MODEL: 'dall-e-2', IMAGE_SIZE: '256x256', GENERATION_CONCURRENCY: '4', GENERATION_QUEUE: '8' },
  });
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

it('runs 4 generations at once, queues 8 and answers 503 with Retry-After to the rest', async () => {
  const auth = await t.addUser();
  const responses = await Promise.all(
    Array.from({ length: 20 }, () =>
      t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload: makeImageInput() }),
    ),
  );

  const created = responses.filter((response) => response.statusCode === 201);
  const refused = responses.filter((response) => response.statusCode === 503);
  expect(created).toHaveLength(12);
  expect(refused).toHaveLength(8);
  for (const response of refused) {
    expect(response.json()).toMatchObject({ status: 503, error: 'ServiceUnavailableError' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }
  expect(fake.maxInFlight).toBe(4);
  expect(fake.requests).toHaveLength(12);
  const listing = await t.app.inject({ url: '/image?limit=50' });
  expect(listing.json()).toHaveLength(12);
  expect(await readdir(t.context.config.imageDir)).toHaveLength(12);
});
