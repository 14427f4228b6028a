import { beforeAll, beforeEach, expect, it } from 'vitest';
import { QuotaExceededError } from '../../../src/core/errors.js';
import { SqlUsageRepository } from '../../../src/data/usage-repository.js';
import { SqlUserRepository } from '../../../src/data/user-repository.js';
import { resolveImageOptions } from '../../../src/service/generation/image-options.js';
import { parseUsd, shippedPriceTable } from '../../../src/service/generation/price-table.js';
import { MeteringService } from '../../../src/service/metering/index.js';
import { describeEachEngine, useMigratedDatabase } from '../../support/engines.js';

const policy = { defaultModel: 'gpt-image-1', allowedModels: ['gpt-image-1', 'dall-e-3', 'dall-e-2'] };
const PROMPT = 'a cat';
// 2026-03-15T10:00:00Z: the day ends in 14 h, the month on 2026-04-01.
const NOW = new Date('2026-03-15T10:00:00.000Z');

describeEachEngine((engine) => {
  const e = useMigratedDatabase(engine);
  let metering: MeteringService;
  let clock: Date;
  let sequence = 0;

  beforeAll(() => {
    metering = new MeteringService({ usage: new SqlUsageRepository(e.db), prices: shippedPriceTable(), reservationTtlMs: 600_000, now: () => clock });
  });
  beforeEach(async () => {
    clock = NOW;
    const users = new SqlUserRepository(e.db);
    for (const username of ['bob', 'carol']) {
      await users.insert({ username, passwordHash: 'x', isAdmin: false, createdAt: NOW.toISOString() });
    }
  });

  /** One whole create as the image service runs it: reserve, then settle at the given cost. */
  async function createAs(username: string, model = 'dall-e-2', size = '256x256') {
    const reservation = await metering.reserve(username, resolveImageOptions({ model, size }, PROMPT, policy), PROMPT);
    sequence += 1;
    return metering.settle(reservation, { guid: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`, model, size, quality: undefined, usage: null });
  }

  it('refuses the create past images_per_day with 429, the quota named and Retry-After until UTC midnight', async () => {
    await metering.setQuota('bob', { imagesPerDay: 2, usdPerMonthNano: null });
    await createAs('bob');
    await createAs('bob');
    const refusal = await metering.reserve('bob', resolveImageOptions({ model: 'dall-e-2' }, PROMPT, policy), PROMPT).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(QuotaExceededError);
    expect((refusal as QuotaExceededError).message).toMatch(/images_per_day.*2 of 2/);
    expect((refusal as QuotaExceededError).retryAfterSeconds).toBe(14 * 3600);
    await createAs('carol');
  });

  it('counts a new UTC day afresh', async () => {
    await metering.setQuota('bob', { imagesPerDay: 1, usdPerMonthNano: null });
    await createAs('bob');
    clock = new Date('2026-03-16T00:00:00.000Z');
    await expect(createAs('bob')).resolves.toBe(16_000_000);
  });

  it('refuses when the worst-case cost would pass usd_per_month, with Retry-After until the month ends', async () => {
    // dall-e-3 without quality or size reserves its dearest price, $0.12; $0.10 left cannot hold it.
    await metering.setQuota('bob', { imagesPerDay: null, usdPerMonthNano: parseUsd('0.10')! });
    const refusal = await metering.reserve('bob', resolveImageOptions({ model: 'dall-e-3' }, PROMPT, policy), PROMPT).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(QuotaExceededError);
    expect((refusal as QuotaExceededError).message).toMatch(/usd_per_month.*\$0\.00 of \$0\.10.*up to \$0\.12/);
    expect((refusal as QuotaExceededError).retryAfterSeconds).toBe((17 * 24 - 10) * 3600);
    // A standard square dall-e-3 image ($0.04) fits.
    await expect(createAs('bob', 'dall-e-3', '1024x1024')).resolves.toBe(40_000_000);
  });

  it('lets 20 concurrent creates by one user take exactly the quota, no more', async () => {
    await metering.setQuota('bob', { imagesPerDay: 7, usdPerMonthNano: null });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => createAs('bob')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(13);
    for (const r of refused) expect(r.reason).toBeInstanceOf(QuotaExceededError);
    expect((await metering.me({ username: 'bob', isAdmin: false })).quotas.images_per_day.used).toBe(7);
  });

  it('lets 20 concurrent creates spend at most usd_per_month, counting held reservations', async () => {
    // $0.05 holds three dall-e-2 256x256 images ($0.016 each) but not four.
    await metering.setQuota('bob', { imagesPerDay: null, usdPerMonthNano: parseUsd('0.05')! });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => createAs('bob')));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const r of refused) expect(r.reason).toBeInstanceOf(QuotaExceededError);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect((await metering.me({ username: 'bob', isAdmin: false })).quotas.usd_per_month).toMatchObject({ limit: '0.05', used: '0.048' });
  });

  it('frees a released reservation and ignores an expired one', async () => {
    await metering.setQuota('bob', { imagesPerDay: 1, usdPerMonthNano: null });
    const options = resolveImageOptions({ model: 'dall-e-2' }, PROMPT, policy);
    const failed = await metering.reserve('bob', options, PROMPT);
    await metering.release(failed);
    await metering.reserve('bob', options, PROMPT); // never settled: its process died
    await expect(metering.reserve('bob', options, PROMPT)).rejects.toBeInstanceOf(QuotaExceededError);
    clock = new Date(NOW.getTime() + 600_001);
    await expect(metering.reserve('bob', options, PROMPT)).resolves.toMatchObject({ username: 'bob' });
  });

  it('renews the hold of a job that starts after waiting, so it outlives its first TTL, and settles it once', async () => {
    await metering.setQuota('bob', { imagesPerDay: 1, usdPerMonthNano: null });
    const options = resolveImageOptions({ model: 'dall-e-2' }, PROMPT, policy);
    const guid = '00000000-0000-4000-8000-0000000000c1';
    const accepted = await metering.reserve('bob', options, PROMPT);
    clock = new Date(NOW.getTime() + 500_000);
    expect(await metering.renew(accepted, guid, options, PROMPT)).toEqual(accepted);
    clock = new Date(NOW.getTime() + 900_000); // past the first TTL, inside the renewed one
    await expect(metering.reserve('bob', options, PROMPT)).rejects.toBeInstanceOf(QuotaExceededError);
    await metering.settle(accepted, { guid, model: 'dall-e-2', size: '256x256', quality: undefined, usage: null });
    expect((await metering.me({ username: 'bob', isAdmin: false })).quotas.images_per_day.used).toBe(1);
    expect(await e.db.all('SELECT id FROM quota_reservation')).toEqual([]);
  });

  it('keeps one ledger row per guid when a job settled, died and ran again: both costs, no second image, no hold left', async () => {
    await metering.setQuota('bob', { imagesPerDay: 5, usdPerMonthNano: null });
    const options = resolveImageOptions({ model: 'dall-e-2', size: '256x256' }, PROMPT, policy);
    const guid = '00000000-0000-4000-8000-0000000000c2';
    const billed = { guid, model: 'dall-e-2', size: '256x256', quality: undefined, usage: null };
    const accepted = await metering.reserve('bob', options, PROMPT);
    await metering.settle(accepted, billed);
    // The re-run finds its hold settled and the image counted: it holds nothing new.
    const again = await metering.renew(accepted, guid, options, PROMPT);
    expect(again.id).toBeUndefined();
    await metering.settle(again, billed);
    expect(await e.db.all('SELECT guid FROM usage_record WHERE guid = :guid', { guid })).toHaveLength(1);
    expect(await e.db.all('SELECT id FROM quota_reservation')).toEqual([]);
    expect((await metering.me({ username: 'bob', isAdmin: false })).quotas).toMatchObject({
      images_per_day: { used: 1 },
      usd_per_month: { used: '0.032' },
    });
  });

  it("answers one image's token usage as settled, with the text/image split, and nothing for an image without a ledger row", async () => {
    const reservation = await metering.reserve('bob', resolveImageOptions({ model: 'gpt-image-1' }, PROMPT, policy), PROMPT);
    const guid = '00000000-0000-4000-8000-0000000000aa';
    const usage = { input_tokens: 12, input_text_tokens: 12, input_image_tokens: 0, output_tokens: 272, output_text_tokens: null, output_image_tokens: 272, total_tokens: 284 };
    await metering.settle(reservation, { guid, model: 'gpt-image-1', size: '1024x1024', quality: 'low', usage });
    expect(await metering.usageOfImage(guid)).toEqual(usage);
    expect(await metering.usageOfImage('00000000-0000-4000-8000-0000000000bb')).toBeUndefined();
  });

  it('holds nothing for a user without quotas', async () => {
    const reservation = await metering.reserve('bob', resolveImageOptions({}, PROMPT, policy), PROMPT);
    expect(reservation.id).toBeUndefined();
  });

  it('reports /me with limits, use and period ends', async () => {
    await metering.setQuota('bob', { imagesPerDay: 50, usdPerMonthNano: parseUsd('20')! });
    await createAs('bob', 'dall-e-3', '1792x1024');
    expect(await metering.me({ username: 'bob', isAdmin: false })).toEqual({
      username: 'bob',
      admin: false,
      quotas: {
        images_per_day: { limit: 50, used: 1, resets_at: '2026-03-16T00:00:00.000Z' },
        usd_per_month: { limit: '20.00', used: '0.08', resets_at: '2026-04-01T00:00:00.000Z' },
      },
    });
  });

  it('clears quotas when both limits are null', async () => {
    await metering.setQuota('bob', { imagesPerDay: 1, usdPerMonthNano: null });
    await metering.setQuota('bob', { imagesPerDay: null, usdPerMonthNano: null });
    expect(await metering.quotaOf('bob')).toEqual({ imagesPerDay: null, usdPerMonthNano: null });
  });

  it('reports usage per user, model and day; a user sees only their own rows', async () => {
    await createAs('bob', 'dall-e-2', '256x256'); // 0.016
    await createAs('bob', 'dall-e-3', '1024x1024'); // 0.04
    clock = new Date('2026-03-16T09:00:00.000Z');
    await createAs('carol', 'dall-e-2', '512x512'); // 0.018
    const admin = { username: 'root', isAdmin: true };
    const byUser = await metering.report(admin, { from: '2026-03-01T00:00:00Z', groupBy: 'user' });
    expect(byUser.rows.map((r) => [r.group, r.images, r.cost_usd])).toEqual([['bob', 2, '0.056'], ['carol', 1, '0.018']]);
    expect(byUser.total).toMatchObject({ images: 3, cost_usd: '0.074' });
    const byDay = await metering.report(admin, { from: '2026-03-01T00:00:00Z', groupBy: 'day' });
    expect(byDay.rows.map((r) => [r.group, r.images])).toEqual([['2026-03-15', 2], ['2026-03-16', 1]]);
    const byModel = await metering.report(admin, { from: '2026-03-01T00:00:00Z', to: '2026-03-16T00:00:00+00:00', groupBy: 'model' });
    expect(byModel.rows.map((r) => [r.group, r.cost_usd])).toEqual([['dall-e-2', '0.016'], ['dall-e-3', '0.04']]);
    const own = await metering.report({ username: 'carol', isAdmin: false }, { from: '2026-03-01T00:00:00Z' });
    expect(own.rows.map((r) => r.group)).toEqual(['carol']);
  });
});
