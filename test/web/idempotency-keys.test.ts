import { expect, it } from 'vitest';
import { PromptRejectedError } from '../../src/core/errors.js';
import type { ImageDetail } from '../../src/core/models/image.js';
import type { JobBody } from '../../src/core/models/job.js';
import { expectProblem } from '../support/expect-problem.js';
import { makeImageInput } from '../support/factories.js';
import { describeEachJobMode, finishedJob } from '../support/job-modes.js';

describeEachJobMode('Idempotency-Key on POST /image', (s) => {
  // One body for every request of a test, unless a test sends another on purpose.
  const INPUT = makeImageInput({ prompt: 'a lighthouse at dusk', tags: ['sea'] });
  const create = (authorization: string, key: string, payload: object = INPUT, prefer?: string) =>
    s.t.app.inject({
      method: 'POST',
      url: '/image',
      headers: { authorization, 'idempotency-key': key, ...(prefer && { prefer }) },
      payload,
    });

  it('replays the first response for the same key and body, without a second generation', async () => {
    const first = await create(s.alice, 'order-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await create(s.alice, 'order-1');
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json<ImageDetail>().guid).toBe(first.json<ImageDetail>().guid);
    expect(second.headers['location']).toBe(first.headers['location']);
    expect(s.generator.prompts).toHaveLength(1);
  });

  it('answers 422 when the key comes back with a different body', async () => {
    await create(s.alice, 'order-2', makeImageInput({ prompt: 'a red fox' }));
    expectProblem(await create(s.alice, 'order-2', makeImageInput({ prompt: 'a blue fox' })), 422, 'IdempotencyKeyReusedError');
    expect(s.generator.prompts).toHaveLength(1);
  });

  it('answers 409 to a duplicate while the first is still running, and the same job to respond-async', async () => {
    const release = s.generator.hold();
    let jobId: string | undefined;
    try {
      const accepted = await create(s.alice, 'order-3', INPUT, 'respond-async');
      expect(accepted.statusCode).toBe(202);
      jobId = accepted.json<JobBody>().id;
      expectProblem(await create(s.alice, 'order-3'), 409, 'IdempotencyKeyInUseError');
      const again = await create(s.alice, 'order-3', INPUT, 'respond-async');
      expect(again.statusCode).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json<JobBody>().id).toBe(jobId);
    } finally {
      release();
    }
    // The job finishes before the app (and its image directory) goes away.
    expect((await finishedJob(s.t, s.alice, jobId!)).status).toBe('succeeded');
  });

  it('replays a failure with the key, with its status and problem', async () => {
    s.generator.failWith = new PromptRejectedError('The provider refused the prompt: safety');
    expectProblem(await create(s.alice, 'order-4'), 422, 'PromptRejectedError');
    s.generator.failWith = undefined;
    const replay = await create(s.alice, 'order-4');
    expectProblem(replay, 422, 'PromptRejectedError');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(s.generator.prompts).toHaveLength(1);
  });

  it('scopes keys per user', async () => {
    const bob = await s.t.addUser('bob');
    const a = await create(s.alice, 'shared-key');
    const b = await create(bob, 'shared-key');
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json<ImageDetail>().guid).not.toBe(a.json<ImageDetail>().guid);
  });

  it.each([
    ['empty', ''],
    ['256 characters long', 'k'.repeat(256)],
    ['with a control character', 'order\t5'],
  ])('answers 400 for a key that is %s', async (_label, key) => {
    const body = expectProblem(await create(s.alice, key), 400, 'BadRequestError');
    expect(body.errors?.[0]?.path).toBe('/headers/idempotency-key');
    expect(s.generator.prompts).toHaveLength(0);
  });

  it('accepts a key of 255 printable characters', async () => {
    expect((await create(s.alice, '~'.repeat(255))).statusCode).toBe(201);
  });
});
