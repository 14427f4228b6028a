import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageDetail } from '../../src/core/models/image.js';
import { expectProblem } from '../support/expect-problem.js';
import { makeImageInput } from '../support/factories.js';
import { basicHeader, createTestApp, type TestApp } from '../support/test-app.js';

const UNKNOWN_GUID = '3f0b6a52-8d5e-4c1e-9d62-0c8f7a3b9e41';
const ADMIN_PASSWORD = 'first start admin password';

let t: TestApp;
let alice: string;
let bob: string;
let admin: string;

beforeEach(async () => {
  t = await createTestApp();
  // The admin every installation starts with, created the way `serve` does on first start.
  await t.context.services.access.ensureInitialAdmin(ADMIN_PASSWORD);
  admin = basicHeader('admin', ADMIN_PASSWORD);
  alice = await t.addUser('alice', 'alice password 1');
  bob = await t.addUser('bob', 'bob password 22');
});
afterEach(() => t.close());

function patch(guid: string, payload: unknown, authorization?: string) {
  return t.app.inject({
    method: 'PATCH',
    url: `/image/${guid}`,
    headers: authorization === undefined ? {} : { authorization },
    payload: payload as object,
  });
}

function del(guid: string, authorization?: string) {
  return t.app.inject({ method: 'DELETE', url: `/image/${guid}`, headers: authorization === undefined ? {} : { authorization } });
}

async function listedGuids(query = ''): Promise<string[]> {
  const response = await t.app.inject({ url: `/image${query}` });
  expect(response.statusCode).toBe(200);
  return response.json<ImageDetail[]>().map((image) => image.guid);
}


describe('PATCH /image/{guid}', () => {
  it('lets the author replace the tags and answers 200 with the updated ImageDetail', async () => {
    const created = await t.createImage(alice, makeImageInput({ tags: ['sea', 'light'] }));
    const response = await patch(created.guid, { tags: ['Storm', ' night ', 'storm'] }, alice);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toMatchObject({ guid: created.guid, tags: ['night', 'storm'], author: 'alice' });
    expect((await t.app.inject({ url: `/image/${created.guid}` })).json().tags).toEqual(['night', 'storm']);
  });

  it('advances updated_at and keeps created_at', async () => {
    const created = await t.createImage(alice);
    const updated: ImageDetail = (await patch(created.guid, { tags: ['x'] }, alice)).json();
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
    expect(updated.created_at).toBe(created.created_at);
    const again: ImageDetail = (await patch(created.guid, { tags: ['y'] }, alice)).json();
    expect(Date.parse(again.updated_at)).toBeGreaterThan(Date.parse(updated.updated_at));
  });

  it('replaces the set: the tag filter finds the image under the new tag and not under the old one', async () => {
    const created = await t.createImage(alice, makeImageInput({ tags: ['before'] }));
    await patch(created.guid, { tags: ['after'] }, alice);
    expect(await listedGuids('?tag=after')).toEqual([created.guid]);
    expect(await listedGuids('?tag=before')).toEqual([]);
  });

  it('keeps the image in its place in the newest-first listing', async () => {
    const older = await t.createImage(alice);
    const newer = await t.createImage(alice);
    await patch(older.guid, { tags: ['touched'] }, alice);
    expect(await listedGuids()).toEqual([newer.guid, older.guid]);
  });

  it('answers 403 OperationNotAllowedError to a user who is not the author, and changes nothing', async () => {
    const created = await t.createImage(alice, makeImageInput({ tags: ['sea'] }));
    const response = await patch(created.guid, { tags: ['stolen'] }, bob);
    expectProblem(response, 403, 'OperationNotAllowedError');
    expect(response.json().type).toBe('urn:pixyproxy:problem:operation-not-allowed');
    expect((await t.app.inject({ url: `/image/${created.guid}` })).json()).toEqual(created);
  });

  it("lets the admin replace the tags of someone else's image", async () => {
    const created = await t.createImage(alice);
    const response = await patch(created.guid, { tags: ['curated'] }, admin);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ tags: ['curated'], author: 'alice' });
  });

  it('lets a user added with the admin flag replace the tags of any image', async () => {
    const carol = await t.addUser('carol', 'carol password 333', true);
    const created = await t.createImage(alice);
    expect((await patch(created.guid, { tags: ['by-carol'] }, carol)).statusCode).toBe(200);
  });

  it('answers 401 with WWW-Authenticate without credentials', async () => {
    const created = await t.createImage(alice);
    const response = await patch(created.guid, { tags: ['x'] });
    expectProblem(response, 401, 'AuthenticationError');
    expect(response.headers['www-authenticate']).toBe('Basic realm="pixyproxy", charset="UTF-8", Bearer realm="pixyproxy"');
  });

  it('answers 401 for a wrong password', async () => {
    const created = await t.createImage(alice);
    expectProblem(await patch(created.guid, { tags: ['x'] }, basicHeader('alice', 'not her password')), 401, 'AuthenticationError');
  });

  it('answers 404 problem+json for an unknown guid', async () => {
    expectProblem(await patch(UNKNOWN_GUID, { tags: ['x'] }, alice), 404, 'RecordNotFoundError');
  });

  it('answers 400 pointing at the guid when it is not a UUID', async () => {
    const response = await patch('not-a-uuid', { tags: ['x'] }, alice);
    expectProblem(response, 400, 'DataValidationError');
    expect(response.json().errors).toEqual([expect.objectContaining({ path: '/params/guid' })]);
  });

  it.each([
    ['an unknown property', { tags: ['a'], prompt: 'rewritten' }, '/body/prompt'],
    ['21 tags', { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }, '/body/tags'],
    ['a blank tag', { tags: ['fine', '  '] }, '/body/tags/1'],
    ['an empty tag', { tags: [''] }, '/body/tags/0'],
    ['a tag over 64 characters', { tags: ['x'.repeat(65)] }, '/body/tags/0'],
    ['a tag with a control character', { tags: ['a\u0007b'] }, '/body/tags/0'],
    ['a missing tags property', {}, '/body/tags'],
    ['tags that are not strings', { tags: [1, 2] }, '/body/tags/0'],
    ['tags that are not an array', { tags: 'sea' }, '/body/tags'],
  ])('answers 400 DataValidationError for %s and leaves the image as it was', async (_name, payload, path) => {
    const created = await t.createImage(alice);
    const response = await patch(created.guid, payload, alice);
    expectProblem(response, 400, 'DataValidationError');
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect((await t.app.inject({ url: `/image/${created.guid}` })).json()).toEqual(created);
  });

  it('validates the body before looking the image up: 400, not 404 or 403', async () => {
    expectProblem(await patch(UNKNOWN_GUID, { tags: 'x' }, bob), 400, 'DataValidationError');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const created = await t.createImage(alice);
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/image/${created.guid}`,
      headers: { authorization: alice, 'content-type': 'application/json' },
      payload: '{"tags": [',
    });
    expectProblem(response, 400, 'BadRequestError');
  });

  it('answers 415 for a body that is not application/json', async () => {
    const created = await t.createImage(alice);
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/image/${created.guid}`,
      headers: { authorization: alice, 'content-type': 'application/xml' },
      payload: '<tags><tag>x</tag></tags>',
    });
    expectProblem(response, 415, 'UnsupportedMediaTypeError');
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const created = await t.createImage(alice);
    const response = await patch(created.guid, { tags: ['x'], padding: 'p'.repeat(70_000) }, alice);
    expectProblem(response, 413, 'PayloadTooLargeError');
  });

  it('checks credentials before the body: 401, not 400, for a bad body without credentials', async () => {
    const created = await t.createImage(alice);
    expectProblem(await patch(created.guid, { nonsense: true }), 401, 'AuthenticationError');
  });
});

describe('DELETE /image/{guid}', () => {
  it('lets the author delete and answers 204 with an empty body', async () => {
    const created = await t.createImage(alice);
    const response = await del(created.guid, alice);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
  });

  it('makes the image and its content answer 404 afterwards', async () => {
    const created = await t.createImage(alice);
    await del(created.guid, alice);
    expectProblem(await t.app.inject({ url: `/image/${created.guid}` }), 404, 'RecordNotFoundError');
    expectProblem(await t.app.inject({ url: `/image/${created.guid}/content` }), 404, 'RecordNotFoundError');
    expect((await t.app.inject({ method: 'HEAD', url: `/image/${created.guid}/content` })).statusCode).toBe(404);
  });

  it('removes the image from the listing and from tag and author filters, keeping the others', async () => {
    const keep = await t.createImage(alice, makeImageInput({ tags: ['harbour'] }));
    const gone = await t.createImage(alice, makeImageInput({ tags: ['harbour'] }));
    expect(await listedGuids('?tag=harbour')).toEqual([gone.guid, keep.guid]);
    await del(gone.guid, alice);
    expect(await listedGuids()).toEqual([keep.guid]);
    expect(await listedGuids('?tag=harbour')).toEqual([keep.guid]);
    expect(await listedGuids('?author=alice')).toEqual([keep.guid]);
  });

  it('removes the bytes from the image directory', async () => {
    const created = await t.createImage(alice);
    expect(await readdir(t.context.config.imageDir)).toContain(created.filename);
    await del(created.guid, alice);
    expect(await readdir(t.context.config.imageDir)).not.toContain(created.filename);
  });

  it('answers 404 the second time', async () => {
    const created = await t.createImage(alice);
    expect((await del(created.guid, alice)).statusCode).toBe(204);
    expectProblem(await del(created.guid, alice), 404, 'RecordNotFoundError');
  });

  it('answers 403 OperationNotAllowedError to a user who is not the author, and keeps the image', async () => {
    const created = await t.createImage(alice);
    expectProblem(await del(created.guid, bob), 403, 'OperationNotAllowedError');
    expect((await t.app.inject({ url: `/image/${created.guid}/content` })).statusCode).toBe(200);
    expect(await readdir(t.context.config.imageDir)).toContain(created.filename);
  });

  it("lets the admin delete someone else's image", async () => {
    const created = await t.createImage(alice);
    expect((await del(created.guid, admin)).statusCode).toBe(204);
    expect((await t.app.inject({ url: `/image/${created.guid}` })).statusCode).toBe(404);
  });

  it('answers 401 with WWW-Authenticate without credentials, and keeps the image', async () => {
    const created = await t.createImage(alice);
    const response = await del(created.guid);
    expectProblem(response, 401, 'AuthenticationError');
    expect(response.headers['www-authenticate']).toBe('Basic realm="pixyproxy", charset="UTF-8", Bearer realm="pixyproxy"');
    expect((await t.app.inject({ url: `/image/${created.guid}` })).statusCode).toBe(200);
  });

  it('answers 404 problem+json for an unknown guid', async () => {
    expectProblem(await del(UNKNOWN_GUID, alice), 404, 'RecordNotFoundError');
  });

  it('answers 400 pointing at the guid when it is not a UUID', async () => {
    const response = await del('not-a-uuid', alice);
    expectProblem(response, 400, 'DataValidationError');
    expect(response.json().errors).toEqual([expect.objectContaining({ path: '/params/guid' })]);
  });

  it('answers 204 and keeps the row deleted when the store cannot remove the bytes', async () => {
    const created = await t.createImage(alice);
    const remove = vi.spyOn(t.context.store, 'remove').mockRejectedValue(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    const response = await del(created.guid, alice);
    expect(response.statusCode).toBe(204);
    expect(remove).toHaveBeenCalledWith(created.filename);
    expectProblem(await t.app.inject({ url: `/image/${created.guid}` }), 404, 'RecordNotFoundError');
    expect(await listedGuids()).toEqual([]);
    // The bytes stay on disk as an orphan for the sweep.
    expect(await readdir(t.context.config.imageDir)).toContain(created.filename);
  });
});
