import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/expect-problem.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let auth: string;
beforeAll(async () => {
  t = await createTestApp();
  auth = await t.addUser('bob');
});
afterAll(() => t.close());

// The `errors[]` of a refused body, word for word as docs/API.md shows them.
describe('validation messages of POST /image', () => {
  it.each([
    [{ prompt: '   ' }, { path: '/body/prompt', message: 'must not be blank or contain control characters' }],
    [{ prompt: 'p', tags: ['a\u0007b'] }, { path: '/body/tags/0', message: 'must not be blank or contain control characters' }],
    [{ prompt: 'p', size: 'big' }, { path: '/body/size', message: 'must match the pattern ^(auto|[1-9][0-9]{0,4}x[1-9][0-9]{0,4})$' }],
    [{ prompt: 'p', colour: 'red' }, { path: '/body/colour', message: 'is not an allowed property' }],
    [{ tags: [] }, { path: '/body/prompt', message: 'is required' }],
  ])('answers %j with %j', async (payload, expected) => {
    const response = await t.app.inject({ method: 'POST', url: '/image', headers: { authorization: auth }, payload });
    const body = expectProblem(response, 400, 'DataValidationError') as { errors: unknown[] };
    expect(body.errors).toEqual([expected]);
  });
});
