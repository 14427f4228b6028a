import { beforeAll, expect, it } from 'vitest';
import { SqlIdempotencyKeyRepository, type NewIdempotencyRecord } from '../../src/data/idempotency-key-repository.js';
import { describeEachEngine, useMigratedDatabase } from '../support/engines.js';

const NOW = '2026-03-01T12:00:00.000Z';
const TOMORROW = '2026-03-02T12:00:00.000Z';

function makeKey(overrides: Partial<NewIdempotencyRecord> = {}): NewIdempotencyRecord {
  return {
    username: 'alice',
    key: 'order-17',
    requestSha256: 'a'.repeat(64),
    jobId: '0b6a3d55-7f0e-4d4c-9d43-6f1f6e0c3c11',
    createdAt: NOW,
    expiresAt: TOMORROW,
    ...overrides,
  };
}

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let repo: SqlIdempotencyKeyRepository;

  beforeAll(() => {
    repo = new SqlIdempotencyKeyRepository(e.db);
  });

  it('lets the first claim of a key own it and hands later claims the first record', async () => {
    expect(await repo.claim(makeKey(), NOW)).toBeUndefined();
    const second = await repo.claim(makeKey({ jobId: 'c5e1a0d2-1111-4222-8333-944455556666', requestSha256: 'b'.repeat(64) }), NOW);
    expect(second).toEqual({ ...makeKey(), failure: undefined });
  });

  it('lets exactly one of many concurrent claims own a key', async () => {
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => repo.claim(makeKey({ jobId: `0b6a3d55-7f0e-4d4c-9d43-6f1f6e0c3c1${i}` }), NOW)),
    );
    expect(claims.filter((c) => c === undefined)).toHaveLength(1);
    expect(new Set(claims.filter((c) => c !== undefined).map((c) => c!.jobId)).size).toBe(1);
  });

  it('scopes keys per user and compares them byte for byte', async () => {
    expect(await repo.claim(makeKey(), NOW)).toBeUndefined();
    expect(await repo.claim(makeKey({ username: 'bob' }), NOW)).toBeUndefined();
    expect(await repo.claim(makeKey({ key: 'ORDER-17' }), NOW)).toBeUndefined();
  });

  it('replaces a key whose 24 hours are over', async () => {
    await repo.claim(makeKey(), NOW);
    const later = makeKey({ jobId: 'c5e1a0d2-1111-4222-8333-944455556666', createdAt: TOMORROW, expiresAt: '2026-03-03T12:00:00.000Z' });
    expect(await repo.claim(later, TOMORROW)).toBeUndefined();
    expect((await repo.claim(makeKey(), TOMORROW))?.jobId).toBe(later.jobId);
  });

  it('keeps a recorded failure with the key, for replays', async () => {
    await repo.claim(makeKey(), NOW);
    const failure = { name: 'PromptRejectedError', message: 'The provider refused the prompt' };
    await repo.recordFailure('alice', 'order-17', makeKey().jobId, failure);
    expect(await repo.claim(makeKey(), NOW)).toMatchObject({ failure });
  });

  it('releases a key only for the job it names', async () => {
    await repo.claim(makeKey(), NOW);
    await repo.release('alice', 'order-17', 'c5e1a0d2-1111-4222-8333-944455556666');
    expect(await repo.claim(makeKey({ requestSha256: 'b'.repeat(64) }), NOW)).toBeDefined();
    await repo.release('alice', 'order-17', makeKey().jobId);
    expect(await repo.claim(makeKey({ requestSha256: 'b'.repeat(64) }), NOW)).toBeUndefined();
  });

  it('deletes expired keys and keeps live ones', async () => {
    await repo.claim(makeKey(), NOW);
    await repo.claim(makeKey({ key: 'fresh', expiresAt: '2026-03-05T00:00:00.000Z' }), NOW);
    expect(await repo.deleteExpired(TOMORROW)).toBe(1);
    expect(await repo.claim(makeKey({ key: 'fresh' }), TOMORROW)).toBeDefined();
  });
});
