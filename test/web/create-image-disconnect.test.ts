import { request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeImageInput, PNG_SIGNATURE } from '../support/factories.js';
import { FakeOpenAIServer } from '../support/fake-openai-server.js';
import { createOpenAITestApp, TEST_OPENAI_KEY } from '../support/openai-test-app.js';
import type { TestApp } from '../support/test-app.js';

let fake: FakeOpenAIServer;
let t: TestApp;
let baseUrl: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  fake = await FakeOpenAIServer.start({ apiKey: TEST_OPENAI_KEY, defaultReply: { kind: 'image', delayMs: 500 } });
  t = await createOpenAITestApp(fake, { env: { OPENAI_IMAGE_MODEL: 'dall-e-2', IMAGE_SIZE: '256x256' } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  t.app.server.on('connection', (socket: Socket) => sockets.push(socket));
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  // Our own keep-alive connections would hold app.close() for Fastify's 72 s keepAliveTimeout when the
  // last response is still being finished as close() runs.
  for (const socket of sockets) socket.destroy();
  await t.close();
  await fake.close();
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('still stores the image when the client hangs up mid-generation', async () => {
  const auth = await t.addUser();
  const body = JSON.stringify(makeImageInput({ prompt: 'a paid-for picture nobody waited for' }));
  const client = request(`${baseUrl}/image`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const closed = new Promise<void>((resolve) => client.on('close', resolve));
  client.on('error', () => {}); // the abort below surfaces as ECONNRESET; that is the point
  client.end(body);

  await until(() => fake.inFlight === 1);
  client.destroy();
  await closed;
  expect(fake.inFlight).toBe(1); // the hang-up happened while the provider was still working

  let images: Array<{ guid: string; prompt: string; filename: string }> = [];
  await until(async () => {
    images = (await (await fetch(`${baseUrl}/image`)).json()) as typeof images;
    return images.length === 1;
  });
  expect(images[0]!.prompt).toBe('a paid-for picture nobody waited for');
  const bytes = await readFile(join(t.context.config.imageDir, images[0]!.filename));
  expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  const content = await fetch(`${baseUrl}/image/${images[0]!.guid}/content`);
  expect(Buffer.from(await content.arrayBuffer())).toEqual(bytes);
});
