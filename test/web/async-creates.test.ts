import { expect, it } from 'vitest';
import { PromptRejectedError } from '../../src/core/errors.js';
import type { JobBody } from '../../src/core/models/job.js';
import { expectProblem } from '../support/expect-problem.js';
import { makeImageInput } from '../support/factories.js';
import { describeEachJobMode, finishedJob } from '../support/job-modes.js';

describeEachJobMode('async creates and jobs', (s) => {
  const createAsync = (authorization: string, payload = makeImageInput()) =>
    s.t.app.inject({ method: 'POST', url: '/image', headers: { authorization, prefer: 'respond-async' }, payload });
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

  it('keeps creates synchronous without Prefer: 201 once the image exists, its guid the job id', async () => {
    const response = await s.t.app.inject({ method: 'POST', url: '/image', headers: { authorization: s.alice }, payload: makeImageInput() });
    expect(response.statusCode).toBe(201);
    const guid = response.json<{ guid: string }>().guid;
    expect((await getJob(s.alice, guid)).json()).toMatchObject({ status: 'succeeded', image: { guid } });
  });
});
