import type { QuotaLimits, QuotaName, TokenUsage, UsageGroupBy, UsageRecord } from '../core/models/usage.js';
import type { Database, DialectSql, Queryable } from './database.js';
import { toSqlTime } from './sql-time.js';

/** A create's hold on its worst-case cost, until the real cost is settled or the create fails. */
export interface NewReservation {
  id: string;
  username: string;
  costNanoUsd: number;
  /** RFC 3339 UTC. */
  createdAt: string;
  /** After this instant the hold no longer counts (a process that died mid-create leaves one behind). */
  expiresAt: string;
  /** Start of the current UTC day and month: the periods the quotas count in. */
  dayStart: string;
  monthStart: string;
}

export type ReservationOutcome =
  | { reserved: true; /** false when the user has no quotas, so nothing was held */ held: boolean }
  | { reserved: false; quota: QuotaName; limit: number; used: number };

/** What a user has used in the current periods, reservations in flight included. */
export interface CurrentUse {
  limits: QuotaLimits;
  imagesToday: number;
  costThisMonthNano: number;
}

/** Sums over a set of ledger rows; token splits the provider did not give count as 0. */
export interface UsageSums {
  images: number;
  inputTokens: number;
  inputTextTokens: number;
  inputImageTokens: number;
  outputTokens: number;
  outputImageTokens: number;
  outputTextTokens: number;
  totalTokens: number;
  costNanoUsd: number;
}

export interface UsageGroup extends UsageSums {
  group: string;
}

export interface UsageFilter {
  /** RFC 3339, inclusive. */
  from: string;
  /** RFC 3339, exclusive; undefined for no end. */
  to: string | undefined;
  groupBy: UsageGroupBy;
  /** Only this user's rows; undefined for everyone's. */
  username: string | undefined;
}

export interface UsageRepository {
  quotaOf(username: string): Promise<QuotaLimits>;
  /** Sets (or, with both limits null, removes) a user's quotas. Throws ConstraintViolationError for an unknown user. */
  setQuota(username: string, limits: QuotaLimits, updatedAt: string): Promise<void>;
  /**
   * In one transaction: locks the user's quota row, counts the ledger and the live reservations of the
   * current periods, and inserts the reservation only when it fits every quota. A user without quotas
   * gets no reservation (nothing to hold): `{ reserved: true, held: false }`.
   */
  reserve(reservation: NewReservation): Promise<ReservationOutcome>;
  /**
   * In one transaction: removes the reservation (if any) and writes the ledger row. A guid that
   * already has a row (a generation job run again after its worker died past its settle) keeps its one
   * row, with this generation's tokens and cost added: the provider billed both.
   */
  settle(reservationId: string | undefined, record: UsageRecord): Promise<void>;
  /** Removes a reservation whose create failed before the provider billed it. */
  release(reservationId: string): Promise<void>;
  /**
   * Moves a live reservation's expiry to `expiresAt` (a queued job starting to run). False when it is
   * gone: settled, released, or expired and swept by another reservation of the user.
   */
  extend(reservationId: string, now: string, expiresAt: string): Promise<boolean>;
  currentUse(username: string, now: string, dayStart: string, monthStart: string): Promise<CurrentUse>;
  summarize(filter: UsageFilter): Promise<UsageGroup[]>;
  /** The ledger's token usage of one image (by its guid), or undefined when it has no ledger row. */
  usageOfImage(guid: string): Promise<TokenUsage | undefined>;
}

interface QuotaRow {
  images_per_day: number | string | null;
  usd_per_month_nano: number | string | null;
}

const numberOrNull = (value: number | string | null | undefined) => (value === null || value === undefined ? null : Number(value));

function limitsFrom(row: QuotaRow | undefined): QuotaLimits {
  return { imagesPerDay: numberOrNull(row?.images_per_day), usdPerMonthNano: numberOrNull(row?.usd_per_month_nano) };
}

// MySQL: a locking read serialises every reservation of one user, on every instance sharing the
// database; the counts after it see every reservation committed before. SQLite: the transaction is
// BEGIN IMMEDIATE, which already serialises writers.
const LOCK_QUOTA: DialectSql = {
  sqlite: 'SELECT images_per_day, usd_per_month_nano FROM user_quota WHERE username = :username',
  mysql: 'SELECT images_per_day, usd_per_month_nano FROM user_quota WHERE username = :username FOR UPDATE',
};

const UPSERT_QUOTA: DialectSql = {
  sqlite: `INSERT INTO user_quota (username, images_per_day, usd_per_month_nano, updated_at)
    VALUES (:username, :imagesPerDay, :usdPerMonthNano, :updatedAt)
    ON CONFLICT (username) DO UPDATE SET images_per_day = excluded.images_per_day,
      usd_per_month_nano = excluded.usd_per_month_nano, updated_at = excluded.updated_at`,
  mysql: `INSERT INTO user_quota (username, images_per_day, usd_per_month_nano, updated_at)
    VALUES (:username, :imagesPerDay, :usdPerMonthNano, :updatedAt)
    ON DUPLICATE KEY UPDATE images_per_day = VALUES(images_per_day),
      usd_per_month_nano = VALUES(usd_per_month_nano), updated_at = VALUES(updated_at)`,
};

// One ledger row per guid (its UNIQUE key): a second settle of one guid adds to the row instead of
// failing, so a job re-run after its worker died between settling and inserting the image still
// settles (its reservation is removed in the same transaction) and the ledger keeps what was billed.
const ADD_TO_LEDGER_ROW: DialectSql = {
  sqlite: `ON CONFLICT (guid) DO UPDATE SET
    input_tokens = input_tokens + excluded.input_tokens,
    input_text_tokens = COALESCE(input_text_tokens + excluded.input_text_tokens, input_text_tokens, excluded.input_text_tokens),
    input_image_tokens = COALESCE(input_image_tokens + excluded.input_image_tokens, input_image_tokens, excluded.input_image_tokens),
    output_tokens = output_tokens + excluded.output_tokens,
    output_text_tokens = COALESCE(output_text_tokens + excluded.output_text_tokens, output_text_tokens, excluded.output_text_tokens),
    output_image_tokens = COALESCE(output_image_tokens + excluded.output_image_tokens, output_image_tokens, excluded.output_image_tokens),
    total_tokens = total_tokens + excluded.total_tokens,
    cost_nano_usd = cost_nano_usd + excluded.cost_nano_usd`,
  mysql: `ON DUPLICATE KEY UPDATE
    input_tokens = input_tokens + VALUES(input_tokens),
    input_text_tokens = COALESCE(input_text_tokens + VALUES(input_text_tokens), input_text_tokens, VALUES(input_text_tokens)),
    input_image_tokens = COALESCE(input_image_tokens + VALUES(input_image_tokens), input_image_tokens, VALUES(input_image_tokens)),
    output_tokens = output_tokens + VALUES(output_tokens),
    output_text_tokens = COALESCE(output_text_tokens + VALUES(output_text_tokens), output_text_tokens, VALUES(output_text_tokens)),
    output_image_tokens = COALESCE(output_image_tokens + VALUES(output_image_tokens), output_image_tokens, VALUES(output_image_tokens)),
    total_tokens = total_tokens + VALUES(total_tokens),
    cost_nano_usd = cost_nano_usd + VALUES(cost_nano_usd)`,
};

const GROUP_KEY: Record<UsageGroupBy, string> = {
  user: 'username',
  model: 'model',
  // created_at is 'YYYY-MM-DD HH:MM:SS.sss' UTC on both engines; its first ten characters are the day.
  day: 'SUBSTR(created_at, 1, 10)',
};

const SUMS = `COUNT(*) AS images,
  COALESCE(SUM(input_tokens), 0) AS input_tokens,
  COALESCE(SUM(input_text_tokens), 0) AS input_text_tokens,
  COALESCE(SUM(input_image_tokens), 0) AS input_image_tokens,
  COALESCE(SUM(output_tokens), 0) AS output_tokens,
  COALESCE(SUM(output_image_tokens), 0) AS output_image_tokens,
  COALESCE(SUM(output_text_tokens), 0) AS output_text_tokens,
  COALESCE(SUM(total_tokens), 0) AS total_tokens,
  COALESCE(SUM(cost_nano_usd), 0) AS cost_nano_usd`;

type SumsRow = Record<
  'images' | 'input_tokens' | 'input_text_tokens' | 'input_image_tokens' | 'output_tokens' | 'output_image_tokens' | 'output_text_tokens' | 'total_tokens' | 'cost_nano_usd',
  number | string
>;

// MySQL answers SUM() as a DECIMAL string; every sum here is an integer well inside 2^53.
function sumsFrom(row: SumsRow): UsageSums {
  return {
    images: Number(row.images),
    inputTokens: Number(row.input_tokens),
    inputTextTokens: Number(row.input_text_tokens),
    inputImageTokens: Number(row.input_image_tokens),
    outputTokens: Number(row.output_tokens),
    outputImageTokens: Number(row.output_image_tokens),
    outputTextTokens: Number(row.output_text_tokens),
    totalTokens: Number(row.total_tokens),
    costNanoUsd: Number(row.cost_nano_usd),
  };
}

async function useSince(tx: Queryable, username: string, now: string, dayStart: string, monthStart: string) {
  const params = { username, now: toSqlTime(now), dayStart: toSqlTime(dayStart), monthStart: toSqlTime(monthStart) };
  const ledger = await tx.get<{ today: number | string | null; month: number | string | null }>(
    `SELECT COALESCE(SUM(CASE WHEN created_at >= :dayStart THEN 1 ELSE 0 END), 0) AS today,
       COALESCE(SUM(cost_nano_usd), 0) AS month
     FROM usage_record WHERE username = :username AND created_at >= :monthStart`,
    params,
  );
  const held = await tx.get<{ n: number | string | null; cost: number | string | null }>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(cost_nano_usd), 0) AS cost
     FROM quota_reservation WHERE username = :username AND expires_at > :now`,
    params,
  );
  return {
    imagesToday: Number(ledger?.today ?? 0) + Number(held?.n ?? 0),
    costThisMonthNano: Number(ledger?.month ?? 0) + Number(held?.cost ?? 0),
  };
}

/**
 * Removes the user's expired reservations (left by a process that died mid-create) one by one, by
 * primary key. Not one ranged DELETE: on MySQL that takes next-key locks over the user's index range,
 * which deadlocks with a concurrent settle deleting its own reservation by id.
 */
async function pruneExpired(tx: Queryable, username: string, now: string): Promise<void> {
  const expired = await tx.all<{ id: string }>(
    'SELECT id FROM quota_reservation WHERE username = :username AND expires_at <= :now',
    { username, now },
  );
  for (const { id } of expired) await tx.run('DELETE FROM quota_reservation WHERE id = :id', { id });
}

function tokenParams(usage: TokenUsage) {
  return {
    inputTokens: usage.input_tokens,
    inputTextTokens: usage.input_text_tokens,
    inputImageTokens: usage.input_image_tokens,
    outputTokens: usage.output_tokens,
    outputTextTokens: usage.output_text_tokens,
    outputImageTokens: usage.output_image_tokens,
    totalTokens: usage.total_tokens,
  };
}

interface TokenRow {
  input_tokens: number | string;
  input_text_tokens: number | string | null;
  input_image_tokens: number | string | null;
  output_tokens: number | string;
  output_text_tokens: number | string | null;
  output_image_tokens: number | string | null;
  total_tokens: number | string;
}

/** The usage ledger, quotas and quota reservations, in the same SQL on SQLite and MySQL. */
export class SqlUsageRepository implements UsageRepository {
  constructor(private readonly db: Database) {}

  async usageOfImage(guid: string): Promise<TokenUsage | undefined> {
    const row = await this.db.get<TokenRow>(
      `SELECT input_tokens, input_text_tokens, input_image_tokens, output_tokens, output_text_tokens, output_image_tokens,
         total_tokens FROM usage_record WHERE guid = :guid`,
      { guid },
    );
    if (row === undefined) return undefined;
    return {
      input_tokens: Number(row.input_tokens),
      input_text_tokens: numberOrNull(row.input_text_tokens),
      input_image_tokens: numberOrNull(row.input_image_tokens),
      output_tokens: Number(row.output_tokens),
      output_text_tokens: numberOrNull(row.output_text_tokens),
      output_image_tokens: numberOrNull(row.output_image_tokens),
      total_tokens: Number(row.total_tokens),
    };
  }

  async quotaOf(username: string): Promise<QuotaLimits> {
    return limitsFrom(await this.db.get<QuotaRow>(LOCK_QUOTA.sqlite, { username }));
  }

  async setQuota(username: string, limits: QuotaLimits, updatedAt: string): Promise<void> {
    if (limits.imagesPerDay === null && limits.usdPerMonthNano === null) {
      await this.db.run('DELETE FROM user_quota WHERE username = :username', { username });
      return;
    }
    await this.db.run(UPSERT_QUOTA[this.db.dialect], {
      username,
      imagesPerDay: limits.imagesPerDay,
      usdPerMonthNano: limits.usdPerMonthNano,
      updatedAt: toSqlTime(updatedAt),
    });
  }

  async reserve(reservation: NewReservation): Promise<ReservationOutcome> {
    const { username } = reservation;
    return this.db.transaction(async (tx) => {
      const row = await tx.get<QuotaRow>(LOCK_QUOTA[this.db.dialect], { username });
      if (row === undefined) return { reserved: true, held: false };
      const limits = limitsFrom(row);
      const now = toSqlTime(reservation.createdAt);
      await pruneExpired(tx, username, now);
      const use = await useSince(tx, username, reservation.createdAt, reservation.dayStart, reservation.monthStart);
      if (limits.imagesPerDay !== null && use.imagesToday + 1 > limits.imagesPerDay) {
        return { reserved: false, quota: 'images_per_day', limit: limits.imagesPerDay, used: use.imagesToday };
      }
      if (limits.usdPerMonthNano !== null && use.costThisMonthNano + reservation.costNanoUsd > limits.usdPerMonthNano) {
        return { reserved: false, quota: 'usd_per_month', limit: limits.usdPerMonthNano, used: use.costThisMonthNano };
      }
      await tx.run(
        `INSERT INTO quota_reservation (id, username, cost_nano_usd, created_at, expires_at)
         VALUES (:id, :username, :cost, :now, :expiresAt)`,
        { id: reservation.id, username, cost: reservation.costNanoUsd, now, expiresAt: toSqlTime(reservation.expiresAt) },
      );
      return { reserved: true, held: true };
    });
  }

  async settle(reservationId: string | undefined, record: UsageRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (reservationId !== undefined) await tx.run('DELETE FROM quota_reservation WHERE id = :id', { id: reservationId });
      await tx.run(
        `INSERT INTO usage_record (guid, username, model, input_tokens, input_text_tokens, input_image_tokens,
           output_tokens, output_text_tokens, output_image_tokens, total_tokens, cost_nano_usd, created_at)
         VALUES (:guid, :username, :model, :inputTokens, :inputTextTokens, :inputImageTokens,
           :outputTokens, :outputTextTokens, :outputImageTokens, :totalTokens, :cost, :createdAt)
         ${ADD_TO_LEDGER_ROW[this.db.dialect]}`,
        {
          guid: record.guid,
          username: record.username,
          model: record.model,
          ...tokenParams(record.usage),
          cost: record.costNanoUsd,
          createdAt: toSqlTime(record.createdAt),
        },
      );
    });
  }

  async release(reservationId: string): Promise<void> {
    await this.db.run('DELETE FROM quota_reservation WHERE id = :id', { id: reservationId });
  }

  async extend(reservationId: string, now: string, expiresAt: string): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE quota_reservation SET expires_at = :expiresAt WHERE id = :id AND expires_at > :now', {
      id: reservationId,
      now: toSqlTime(now),
      expiresAt: toSqlTime(expiresAt),
    });
    return changes > 0;
  }

  async currentUse(username: string, now: string, dayStart: string, monthStart: string): Promise<CurrentUse> {
    const limits = await this.quotaOf(username);
    return { limits, ...(await useSince(this.db, username, now, dayStart, monthStart)) };
  }

  async summarize(filter: UsageFilter): Promise<UsageGroup[]> {
    const key = GROUP_KEY[filter.groupBy];
    const conditions = ['created_at >= :from'];
    if (filter.to !== undefined) conditions.push('created_at < :to');
    if (filter.username !== undefined) conditions.push('username = :username');
    const rows = await this.db.all<SumsRow & { grp: string }>(
      `SELECT ${key} AS grp, ${SUMS} FROM usage_record WHERE ${conditions.join(' AND ')} GROUP BY ${key} ORDER BY ${key}`,
      {
        from: toSqlTime(filter.from),
        ...(filter.to !== undefined && { to: toSqlTime(filter.to) }),
        ...(filter.username !== undefined && { username: filter.username }),
      },
    );
    return rows.map((row) => ({ group: String(row.grp), ...sumsFrom(row) }));
  }
}
