import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../support/cli-process.js';
import { describeEachEngine, type EngineDatabase } from '../support/engines.js';
import { basicHeader } from '../support/test-app.js';

const ADMIN_PASSWORD = 'two instances admin password';
const admin = basicHeader('admin', ADMIN_PASSWORD);
// Two child processes that each load the TypeScript sources: generous, because CI machines are busy.
const PROCESS_TEST_TIMEOUT_MS = 120_000;

interface Detail {
  guid: string;
  tags: string[];
  sha256?: string;
}

async function json<T>(response: Response, status: number): Promise<T> {
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as T;
}

/** A 404 answered as the API's RecordNotFoundError problem, not a cached success. */
async function expectNotFound(response: Response) {
  expect(response.status).toBe(404);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(((await response.json()) as { error: string }).error).toBe('RecordNotFoundError');
}

/**
 * Several instances on one database: whatever one instance keeps in memory to answer reads faster
 * (content bytes, statements, credentials) must never outlive a change made through another one.
 */
describeEachEngine((engine) => {
  describe('caches of two server processes on one database', () => {
    let database: EngineDatabase;
    let dataDir: string;
    let first: ServerProcess;
    let second: ServerProcess;

    beforeAll(async () => {
      database = await engine.open();
      dataDir = await mkdtemp(join(tmpdir(), 'pixyproxy-two-'));
      const env = {
        DATABASE_URL: database.databaseUrl,
        DATA_DIR: dataDir,
        IMAGE_SIZE: '64x64',
        PIXYPROXY_ADMIN_PASSWORD: ADMIN_PASSWORD,
      };
      // One after the other: the first applies the migrations, the second finds them applied.
      first = await startServer(env);
      second = await startServer(env);
    }, PROCESS_TEST_TIMEOUT_MS);

    afterAll(async () => {
      await Promise.all([first?.kill(), second?.kill()]);
      await database?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    async function create(tags: string[]): Promise<Detail> {
      const response = await fetch(`${first.address}/image`, {
        method: 'POST',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `a lighthouse tagged ${tags.join(' ')}`, tags }),
      });
      return json<Detail>(response, 201);
    }

    /** Reads the image every way a client can, twice on each instance, so that any cache holds it. */
    async function readEverywhere(guid: string, tag: string): Promise<string> {
      let etag = '';
      for (const server of [first, second, first, second]) {
        await json<Detail>(await fetch(`${server.address}/image/${guid}`), 200);
        const listed = await json<Detail[]>(await fetch(`${server.address}/image?tag=${tag}`), 200);
        expect(listed.map((image) => image.guid)).toContain(guid);
        const content = await fetch(`${server.address}/image/${guid}/content`);
        expect(content.status).toBe(200);
        await content.arrayBuffer();
        etag = content.headers.get('etag')!;
        expect((await fetch(`${server.address}/image/${guid}/content`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      }
      return etag;
    }

    it('serves tags changed on the other instance at once, in the detail and in tag listings', async () => {
      const image = await create(['before']);
      await readEverywhere(image.guid, 'before');

      const patched = await fetch(`${first.address}/image/${image.guid}`, {
        method: 'PATCH',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['after'] }),
      });
      expect((await json<Detail>(patched, 200)).tags).toEqual(['after']);

      expect((await json<Detail>(await fetch(`${second.address}/image/${image.guid}`), 200)).tags).toEqual(['after']);
      const oldTag = await json<Detail[]>(await fetch(`${second.address}/image?tag=before`), 200);
      expect(oldTag.map((i) => i.guid)).not.toContain(image.guid);
      const newTag = await json<Detail[]>(await fetch(`${second.address}/image?tag=after`), 200);
      expect(newTag.map((i) => i.guid)).toContain(image.guid);
    }, PROCESS_TEST_TIMEOUT_MS);

    it('answers 404 on both instances for an image deleted on one, even for content both had served', async () => {
      const image = await create(['doomed']);
      const etag = await readEverywhere(image.guid, 'doomed');

      const deleted = await fetch(`${first.address}/image/${image.guid}`, { method: 'DELETE', headers: { authorization: admin } });
      expect(deleted.status).toBe(204);

      for (const server of [second, first]) {
        await expectNotFound(await fetch(`${server.address}/image/${image.guid}`));
        await expectNotFound(await fetch(`${server.address}/image/${image.guid}/content`));
        await expectNotFound(await fetch(`${server.address}/image/${image.guid}/content`, { headers: { 'if-none-match': etag } }));
        await expectNotFound(await fetch(`${server.address}/image/${image.guid}/content`, { headers: { range: 'bytes=0-7' } }));
        const head = await fetch(`${server.address}/image/${image.guid}/content`, { method: 'HEAD' });
        expect(head.status).toBe(404);
        const listed = await json<Detail[]>(await fetch(`${server.address}/image?tag=doomed`), 200);
        expect(listed.map((i) => i.guid)).not.toContain(image.guid);
      }
    }, PROCESS_TEST_TIMEOUT_MS);
  });
});
