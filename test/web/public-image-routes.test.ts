import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewImage } from '../../src/core/models/image.js';
import { SqlImageRepository } from '../../src/data/image-repository.js';
import { makeImageInput, makeNewImage, PNG_SIGNATURE } from '../support/factories.js';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const UNKNOWN_GUID = '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41';

let t: TestApp;
let auth: string;

beforeEach(async () => {
  t = await createTestApp();
  auth = await t.addUser();
});
afterEach(() => t.close());

function createImage(body = makeImageInput()) {
  return t.createImage(auth, body);
}

/** Catalogue rows straight through the repository: listing tests need many rows, not their bytes. */
async function seed(count: number, overrides: (i: number) => Partial<NewImage> = () => ({})): Promise<NewImage[]> {
  const repository = new SqlImageRepository(t.context.db);
  const records: NewImage[] = [];
  for (let i = 0; i < count; i++) {
    const record = makeNewImage({ created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ...overrides(i) });
    await repository.insert(record);
    records.push(record);
  }
  return records;
}

function newestFirst(records: NewImage[]): string[] {
  return [...records]
    .sort((a, b) => (a.created_at === b.created_at ? b.guid.localeCompare(a.guid) : b.created_at.localeCompare(a.created_at)))
    .map((r) => r.guid);
}

function nextLink(link: string | string[] | number | undefined): string | undefined {
  if (link === undefined) return undefined;
  const match = /^<([^>]+)>; rel="next"$/.exec(String(link));
  expect(match, `Link header ${String(link)}`).not.toBeNull();
  return match![1];
}

async function list(url: string) {
  const response = await t.app.inject({ url });
  expect(response.statusCode).toBe(200);
  return { guids: response.json<{ guid: string }[]>().map((i) => i.guid), next: nextLink(response.headers['link']), response };
}

describe('GET /image/{guid}', () => {
  it('returns the detail of a created image', async () => {
    const { guid } = await createImage(makeImageInput({ prompt: 'a blue whale', tags: ['Ocean'] }));
    const response = await t.app.inject({ url: `/image/${guid}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ guid, prompt: 'a blue whale', tags: ['ocean'], author: 'alice' });
  });

  it('finds an existing image by its guid in upper case', async () => {
    const { guid } = await createImage();
    const response = await t.app.inject({ url: `/image/${guid.toUpperCase()}` });
    expect(response.statusCode).toBe(200);
    expect(response.json().guid).toBe(guid);
  });

  it('returns 404 problem+json for an unknown guid', async () => {
    const response = await t.app.inject({ url: `/image/${UNKNOWN_GUID}` });
    const body = expectProblem(response, 404, 'RecordNotFoundError');
    expect(body.instance).toBe(`/image/${UNKNOWN_GUID}`);
  });

  it('returns 400 problem+json pointing at the guid when it is not a UUID', async () => {
    const body = expectProblem(await t.app.inject({ url: '/image/not-a-uuid' }), 400, 'DataValidationError');
    expect(errorPaths(body)).toEqual(['/params/guid']);
  });
});

describe('GET /image', () => {
  it('returns an empty JSON array and no Link header for an empty catalogue', async () => {
    const { guids, response } = await list('/image');
    expect(guids).toEqual([]);
    expect(response.headers['link']).toBeUndefined();
  });

  it('returns created images newest first as a JSON array of details', async () => {
    const first = await createImage();
    const second = await createImage();
    const response = await t.app.inject({ url: '/image' });
    const body = response.json();
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((i: { guid: string }) => i.guid)).toEqual(
      second.created_at === first.created_at ? [first.guid, second.guid].sort().reverse() : [second.guid, first.guid],
    );
    expect(body[0]).toHaveProperty('prompt');
    expect(body[0]).not.toHaveProperty('id');
  });

  it('returns 50 images by default, with a Link to the rest', async () => {
    const records = await seed(51);
    const { guids, next } = await list('/image');
    expect(guids).toEqual(newestFirst(records).slice(0, 50));
    expect(next).toMatch(/^\/image\?after=[A-Za-z0-9_-]+$/);
  });

  it('walks every image exactly once through the rel="next" links, keeping the query', async () => {
    // Several rows share a timestamp, so the guid tie-break decides page boundaries.
    const records = await seed(7, (i) => ({ created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 2))).toISOString() }));
    const seen: string[] = [];
    let url: string | undefined = '/image?limit=3';
    let pages = 0;
    while (url !== undefined && pages < 10) {
      const page = await list(url);
      seen.push(...page.guids);
      if (page.next !== undefined) expect(page.next).toContain('limit=3');
      url = page.next;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst(records));
  });

  it('accepts the limit bounds 1 and 200', async () => {
    await seed(2);
    expect((await list('/image?limit=1')).guids).toHaveLength(1);
    expect((await list('/image?limit=200')).guids).toHaveLength(2);
  });

  it.each(['0', '201', '-1', 'ten'])('rejects limit=%s with 400 pointing at limit', async (limit) => {
    const body = expectProblem(await t.app.inject({ url: `/image?limit=${limit}` }), 400, 'DataValidationError');
    expect(errorPaths(body)).toEqual(['/querystring/limit']);
  });

  it('rejects a cursor the server did not issue with 400', async () => {
    const body = expectProblem(await t.app.inject({ url: '/image?after=bm90LWEtY3Vyc29y' }), 400, 'BadRequestError');
    expect(errorPaths(body)).toEqual(['/querystring/after']);
  });

  it('rejects an unknown query parameter with 400', async () => {
    expectProblem(await t.app.inject({ url: '/image?colour=red' }), 400, 'DataValidationError');
  });

  it('filters by tag, case-insensitively', async () => {
    const records = await seed(4, (i) => ({ tags: i % 2 === 0 ? ['sea', 'night'] : ['land'] }));
    const { guids } = await list('/image?tag=SEA');
    expect(guids).toEqual(newestFirst(records.filter((r) => r.tags.includes('sea'))));
  });

  it('filters by author', async () => {
    const records = await seed(4, (i) => ({ author: i < 3 ? 'alice' : 'bob' }));
    const { guids } = await list('/image?author=bob');
    expect(guids).toEqual(newestFirst(records.filter((r) => r.author === 'bob')));
  });

  it('combines tag and author filters, and pages through them', async () => {
    const records = await seed(8, (i) => ({ author: i % 2 === 0 ? 'alice' : 'bob', tags: i < 6 ? ['sea'] : ['land'] }));
    const first = await list('/image?tag=sea&author=alice&limit=2');
    expect(first.next).toMatch(/tag=sea/);
    expect(first.next).toMatch(/author=alice/);
    const second = await list(first.next!);
    expect(second.next).toBeUndefined();
    expect([...first.guids, ...second.guids]).toEqual(newestFirst(records.filter((r) => r.author === 'alice' && r.tags.includes('sea'))));
  });

  it('answers /image/ with a trailing slash the same as /image', async () => {
    await seed(3);
    const plain = await list('/image?limit=2');
    const slashed = await list('/image/?limit=2');
    expect(slashed.guids).toEqual(plain.guids);
    expect(slashed.next).toBe(plain.next);
  });
});

describe('GET /image/{guid}/content', () => {
  it('returns the PNG bytes with their length', async () => {
    const { guid } = await createImage();
    const response = await t.app.inject({ url: `/image/${guid}/content` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.rawPayload.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
  });

  it('returns the same bytes the detail describes', async () => {
    const created = await createImage();
    const detail = (await t.app.inject({ url: `/image/${created.guid}` })).json();
    const response = await t.app.inject({ url: `/image/${created.guid}/content` });
    expect(response.rawPayload.length).toBe(detail.byte_size);
  });

  it('returns 404 problem+json for an unknown guid', async () => {
    expectProblem(await t.app.inject({ url: `/image/${UNKNOWN_GUID}/content` }), 404, 'RecordNotFoundError');
  });

  it('returns 400 problem+json when the guid is not a UUID', async () => {
    expectProblem(await t.app.inject({ url: '/image/nope/content' }), 400, 'DataValidationError');
  });
});
