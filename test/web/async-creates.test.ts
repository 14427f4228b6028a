import { expect, it } from 'vitest';
import { PromptRejectedError } from '../../src/core/errors.js';
import type { JobBody } from '../../src/core/models/job.js';
import { errorPaths, expectProblem } from '../support/expect-problem.js';
import { makeImageInput } from '../support/factories.js';
import { describeEachJobMode, finishedJob } from '../support/job-modes.js';

describeEachJobMode('async creates and jobs', (s) => {
  const createAsync = (authorization: string, payload = makeImageInput(), idempotencyKey?: string) =>
    s.t.app.inject({
      method: 'POST',
      url: '/image',
      headers: { authorization, prefer: 'respond-async', ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }) },
      payload,
    });
  const getJob = (authorization: string, id: string) => s.t.app.inject({ url: `/jobs/${id}`, headers: { authorization } });
  const finished = (authorization: string, id: string) => finishedJob(s.t, authorization, id);

  it('answers 202 with Location, Retry-After and the job, then the job links the image', async () => {
    const response = await createAsync(s.alice);
    expect(response.statusCode).toBe(202);
    const job = response.json<JobBody>();
    expect(response.headers['location']).toBe(`/jobs/${job.id}`);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.headers['preference-applied']).toBe('respond-async');
    expect(['queued', 'running', 'succeeded']).toContain(job.status);
    const done = await finished(s.alice, job.id);
    expect(done).toMatchObject({ id: job.id, status: 'succeeded', image: { guid: job.id, href: `/image/${job.id}` }, problem: null });
    expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.created_at));
    expect((await s.t.app.inject({ url: done.image!.href })).json()).toMatchObject({ guid: job.id, author: 'alice' });
  });

  it('reports a failed job with the problem the synchronous call would have answered', async () => {
    s.generator.failWith = new PromptRejectedError('The provider refused the prompt: safety');
    const sync = await s.t.app.inject({ method: 'POST', url: '/image', headers: { authorization: s.alice }, payload: makeImageInput() });
    const syncProblem = expectProblem(sync, 422, 'PromptRejectedError');
    const job = (await createAsync(s.alice)).json<JobBody>();
    const done = await finished(s.alice, job.id);
    expect(done).toMatchObject({ status: 'failed', image: null });
    expect(done.problem).toMatchObject({ status: 422, error: 'PromptRejectedError', detail: syncProblem.detail, instance: '/image' });
  });

  it('shows a job to an admin and hides it from other users as 404', async () => {
    const job = (await createAsync(s.alice)).json<JobBody>();
    const bob = await s.t.addUser('bob');
    const admin = await s.t.addUser('root', 'correct horse battery', true);
    expectProblem(await getJob(bob, job.id), 404, 'RecordNotFoundError');
    expect((await getJob(admin, job.id)).statusCode).toBe(200);
    await finished(s.alice, job.id);
  });

  it('answers 404 for a job that does not exist and 401 without credentials', async () => {
    expectProblem(await getJob(s.alice, '00000000-0000-4000-8000-000000000000'), 404, 'RecordNotFoundError');
    expectProblem(await s.t.app.inject({ url: '/jobs/00000000-0000-4000-8000-000000000000' }), 401, 'AuthenticationError');
  });

  const createSync = (authorization: string, payload = makeImageInput(), headers: Record<string, string> = {}) =>
    s.t.app.inject({ method: 'POST', url: '/image', headers: { authorization, ...headers }, payload });

  it.each<[string, Record<string, unknown>, string]>([
    ['a model the server does not offer', { model: 'dall-e-3' }, '/body/model'],
    ["a size beyond the model's limits", { size: '4096x4096' }, '/body/size'],
  ])('refuses %s with respond-async as the synchronous call does: 400, no job, no generation', async (_case, options, path) => {
    const payload = { ...makeImageInput(), ...options };
    const sync = expectProblem(await createSync(s.alice, payload), 400, 'DataValidationError');
    const async = expectProblem(await createAsync(s.alice, payload), 400, 'DataValidationError');
    expect(errorPaths(async)).toEqual([path]);
    expect(async.detail).toBe(sync.detail);
    expect(s.generator.prompts).toEqual([]);
  });

  it('refuses a create past a quota with respond-async: 429 with Retry-After, and the refusal holds nothing', async () => {
    await s.t.context.services.metering.setQuota('alice', { imagesPerDay: 1, usdPerMonthNano: null });
    expect((await createSync(s.alice)).statusCode).toBe(201);
    const refused = await createAsync(s.alice);
    expect(expectProblem(refused, 429, 'QuotaExceededError').detail).toMatch(/images_per_day/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(s.generator.prompts).toHaveLength(1);
    // The refused create left no hold behind: one more image a day is exactly one more create.
    await s.t.context.services.metering.setQuota('alice', { imagesPerDay: 2, usdPerMonthNano: null });
    const accepted = await createAsync(s.alice);
    expect(accepted.statusCode).toBe(202);
    expect((await finished(s.alice, accepted.json<JobBody>().id)).status).toBe('succeeded');
    expectProblem(await createAsync(s.alice), 429, 'QuotaExceededError');
  });

  it('answers a malformed Idempotency-Key with 400 and a reused one with 422 before accepting a job', async () => {
    expectProblem(await createAsync(s.alice, makeImageInput(), 'order\t5'), 400, 'BadRequestError');
    const first = await createAsync(s.alice, makeImageInput({ prompt: 'a heron' }), 'key-1');
    expect(first.statusCode).toBe(202);
    expectProblem(await createAsync(s.alice, makeImageInput({ prompt: 'an egret' }), 'key-1'), 422, 'IdempotencyKeyReusedError');
    await finished(s.alice, first.json<JobBody>().id);
    expect(s.generator.prompts).toEqual(['a heron']);
  });

  it('keeps creates synchronous without Prefer: 201 once the image exists, its guid the job id', async () => {
    const response = await s.t.app.inject({ method: 'POST', url: '/image', headers: { authorization: s.alice }, payload: makeImageInput() });
    expect(response.statusCode).toBe(201);
    const guid = response.json<{ guid: string }>().guid;
    expect((await getJob(s.alice, guid)).json()).toMatchObject({ status: 'succeeded', image: { guid } });
  });
});
