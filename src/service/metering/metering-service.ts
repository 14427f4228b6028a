import { randomUUID } from 'node:crypto';
import { DataValidationError, QuotaExceededError } from '../../core/errors.js';
import type { Me, QuotaLimits, TokenUsage, UsageGroupBy, UsageReport, UsageTotals } from '../../core/models/usage.js';
import type { UsageRepository, UsageSums } from '../../data/usage-repository.js';
import { costOf, formatUsd, worstCaseCostOf, type PriceTable } from '../generation/index.js';
import type { ImageOptions } from '../generation/index.js';
import { periodsAt, secondsUntil } from './usage-periods.js';

/** A create's hold on its quota; `id` is undefined for a user without quotas (nothing is held). */
export interface Reservation {
  id: string | undefined;
  username: string;
  worstCaseNanoUsd: number;
}

/** What a finished generation reports, as the ledger needs it. */
export interface BilledGeneration {
  guid: string;
  model: string;
  /** WIDTHxHEIGHT as delivered. */
  size: string;
  /** As the provider reports it, else as requested. */
  quality: string | undefined;
  /** null when the provider reports none (DALL-E, the local generator). */
  usage: TokenUsage | null;
}

export interface Caller {
  username: string;
  isAdmin: boolean;
}

export interface MeteringOptions {
  usage: UsageRepository;
  prices: PriceTable;
  /** How long an unsettled reservation holds quota: longer than any generation (OPENAI_TIMEOUT_MS + margin). */
  reservationTtlMs: number;
  now?: () => Date;
}

const NO_USAGE: TokenUsage = {
  input_tokens: 0,
  output_tokens: 0,
  total_tokens: 0,
  input_text_tokens: null,
  input_image_tokens: null,
  output_text_tokens: null,
  output_image_tokens: null,
};

function totalsOf(sums: UsageSums): UsageTotals {
  return {
    images: sums.images,
    input_tokens: sums.inputTokens,
    input_text_tokens: sums.inputTextTokens,
    input_image_tokens: sums.inputImageTokens,
    output_tokens: sums.outputTokens,
    output_image_tokens: sums.outputImageTokens,
    output_text_tokens: sums.outputTextTokens,
    total_tokens: sums.totalTokens,
    cost_usd: formatUsd(sums.costNanoUsd),
  };
}

function addSums(a: UsageSums, b: UsageSums): UsageSums {
  return {
    images: a.images + b.images,
    inputTokens: a.inputTokens + b.inputTokens,
    inputTextTokens: a.inputTextTokens + b.inputTextTokens,
    inputImageTokens: a.inputImageTokens + b.inputImageTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    outputImageTokens: a.outputImageTokens + b.outputImageTokens,
    outputTextTokens: a.outputTextTokens + b.outputTextTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    costNanoUsd: a.costNanoUsd + b.costNanoUsd,
  };
}

const ZERO: UsageSums = {
  images: 0, inputTokens: 0, inputTextTokens: 0, inputImageTokens: 0, outputTokens: 0,
  outputImageTokens: 0, outputTextTokens: 0, totalTokens: 0, costNanoUsd: 0,
};

function isoOf(text: string, field: string): string {
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new DataValidationError(`${field} must be an RFC 3339 date-time`, { errors: [{ path: `/querystring/${field}`, message: 'must be an RFC 3339 date-time' }] });
  }
  return new Date(time).toISOString();
}

/**
 * Usage, cost and quotas. A create reserves its worst-case cost before the provider is called (in the
 * database, in one transaction per reservation, so concurrent creates, on one instance or many sharing
 * the database, cannot together overshoot), settles the real cost into the ledger once the provider
 * answered, or releases the hold when it failed.
 */
export class MeteringService {
  readonly #usage: UsageRepository;
  readonly #prices: PriceTable;
  readonly #ttlMs: number;
  readonly #now: () => Date;

  constructor(options: MeteringOptions) {
    this.#usage = options.usage;
    this.#prices = options.prices;
    this.#ttlMs = options.reservationTtlMs;
    this.#now = options.now ?? (() => new Date());
  }

  /** The price table in force (dated), for docs and `/me`. */
  get prices(): PriceTable {
    return this.#prices;
  }

  /**
   * Holds the worst-case cost of one image with `options` against `username`'s quotas.
   * @throws QuotaExceededError (429) naming the quota, with Retry-After until its period ends (UTC).
   */
  async reserve(username: string, options: ImageOptions, prompt: string): Promise<Reservation> {
    const now = this.#now();
    const periods = periodsAt(now);
    const worstCaseNanoUsd = worstCaseCostOf(this.#prices, options, prompt);
    const id = randomUUID();
    const outcome = await this.#usage.reserve({
      id,
      username,
      costNanoUsd: worstCaseNanoUsd,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#ttlMs).toISOString(),
      dayStart: periods.dayStart.toISOString(),
      monthStart: periods.monthStart.toISOString(),
    });
    if (!outcome.reserved) {
      if (outcome.quota === 'images_per_day') {
        throw new QuotaExceededError(
          `Quota images_per_day reached: ${outcome.used} of ${outcome.limit} images today (UTC); it resets at ${periods.dayEnd.toISOString()}`,
          { retryAfterSeconds: secondsUntil(now, periods.dayEnd) },
        );
      }
      throw new QuotaExceededError(
        `Quota usd_per_month reached: $${formatUsd(outcome.used)} of $${formatUsd(outcome.limit)} used this month (UTC), and this image may cost up to $${formatUsd(worstCaseNanoUsd)}; it resets at ${periods.monthEnd.toISOString()}`,
        { retryAfterSeconds: secondsUntil(now, periods.monthEnd) },
      );
    }
    return { id: outcome.held ? id : undefined, username, worstCaseNanoUsd };
  }

  /** Writes the real cost into the ledger and lifts the hold. Returns the cost in nano-dollars. */
  async settle(reservation: Reservation, generation: BilledGeneration): Promise<number> {
    const costNanoUsd = costOf(this.#prices, generation);
    await this.#usage.settle(reservation.id, {
      guid: generation.guid,
      username: reservation.username,
      model: generation.model,
      usage: generation.usage ?? NO_USAGE,
      costNanoUsd,
      createdAt: this.#now().toISOString(),
    });
    return costNanoUsd;
  }

  /**
   * Keeps the hold of a create whose job starts running (after waiting in the generation queue, or
   * again after its worker died) for another reservation TTL from now. A hold that is gone (expired
   * and swept) is taken afresh against the quotas as they are now; when the ledger already has a row
   * for `guid` (an earlier run of the job settled, then died before its image row), nothing new is
   * held: that image has been counted.
   * @throws QuotaExceededError (429) when a hold that was gone no longer fits.
   */
  async renew(reservation: Reservation, guid: string, options: ImageOptions, prompt: string): Promise<Reservation> {
    if (reservation.id === undefined) return reservation;
    const now = this.#now();
    if (await this.#usage.extend(reservation.id, now.toISOString(), new Date(now.getTime() + this.#ttlMs).toISOString())) return reservation;
    if ((await this.#usage.usageOfImage(guid)) !== undefined) return { ...reservation, id: undefined };
    return this.reserve(reservation.username, options, prompt);
  }

  /** Lifts the hold of a create that failed before the provider billed it. */
  async release(reservation: Reservation): Promise<void> {
    if (reservation.id !== undefined) await this.#usage.release(reservation.id);
  }

  /**
   * GET /usage: counts, tokens and cost per group in [from, to). A caller who is not an admin sees only
   * their own rows. @throws DataValidationError for a bound that is not RFC 3339 or `to` before `from`.
   */
  async report(caller: Caller, query: { from?: string | undefined; to?: string | undefined; groupBy?: UsageGroupBy | undefined }): Promise<UsageReport> {
    const from = query.from === undefined ? periodsAt(this.#now()).monthStart.toISOString() : isoOf(query.from, 'from');
    const to = query.to === undefined ? undefined : isoOf(query.to, 'to');
    if (to !== undefined && to < from) {
      throw new DataValidationError('to must not be before from', { errors: [{ path: '/querystring/to', message: 'must not be before from' }] });
    }
    const groupBy = query.groupBy ?? 'user';
    const groups = await this.#usage.summarize({ from, to, groupBy, username: caller.isAdmin ? undefined : caller.username });
    return {
      from,
      to: to ?? null,
      group_by: groupBy,
      rows: groups.map(({ group, ...sums }) => ({ group, ...totalsOf(sums) })),
      total: totalsOf(groups.reduce<UsageSums>((sum, group) => addSums(sum, group), ZERO)),
    };
  }

  /** GET /me: the caller, their quotas and what they used in the current periods (holds included). */
  async me(caller: Caller): Promise<Me> {
    const now = this.#now();
    const periods = periodsAt(now);
    const use = await this.#usage.currentUse(caller.username, now.toISOString(), periods.dayStart.toISOString(), periods.monthStart.toISOString());
    return {
      username: caller.username,
      admin: caller.isAdmin,
      quotas: {
        images_per_day: { limit: use.limits.imagesPerDay, used: use.imagesToday, resets_at: periods.dayEnd.toISOString() },
        usd_per_month: {
          limit: use.limits.usdPerMonthNano === null ? null : formatUsd(use.limits.usdPerMonthNano),
          used: formatUsd(use.costThisMonthNano),
          resets_at: periods.monthEnd.toISOString(),
        },
      },
    };
  }

  /** Sets a user's quotas (null: no limit; both null removes them). */
  async setQuota(username: string, limits: QuotaLimits): Promise<void> {
    await this.#usage.setQuota(username, limits, this.#now().toISOString());
  }

  /** The token usage the ledger holds for one image (POST /v1/images/generations reports it), or undefined. */
  usageOfImage(guid: string): Promise<TokenUsage | undefined> {
    return this.#usage.usageOfImage(guid);
  }

  async quotaOf(username: string): Promise<QuotaLimits> {
    return this.#usage.quotaOf(username);
  }
}
