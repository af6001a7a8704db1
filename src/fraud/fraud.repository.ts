import type { DataSource } from 'typeorm';
import type { Queryable } from '../db/sql';
import { queryRows } from '../db/sql';
import { newestFirstPage } from '../db/newest-first';
import type { PageSource } from '../core/pagination';
import type { BlockReason, FraudEventKind, GeoAction, SafeListKind } from './fraud.entity';
import { FraudEventEntity, FraudGeoPermissionEntity, FraudPrefixBlockEntity, FraudSafeListEntryEntity } from './fraud.entity';

export interface NewFraudEvent {
  kind: FraudEventKind;
  reason?: BlockReason | null;
  monitored?: boolean;
  prefix: string | null;
  country: string | null;
  numberType: string | null;
  maskedNumber: string | null;
  channels: string[];
  source: string;
  ruleId: number | null;
  otpRequestId?: string | null;
  apiKeyId?: string | null;
  userId?: string | null;
  detail?: string | null;
}

export interface PrefixWindow {
  sends: number;
  verified: number;
}

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface SummaryRow {
  country: string | null;
  channel: string;
  source: string;
  ruleId: number | null;
  sends: number;
  verified: number;
  blocked: number;
  monitored: number;
}

/** What the prefix check raises when the guard must look closer (a cast error whose text names it). */
const SCREEN_CHECK_FAILED = 'countersign-screen-look-closer';

/** Every statement against the fraud guard's four tables; nothing else queries them. */
export class FraudRepository {
  /** `hot` (default: `q`) runs the statements of every screened send and verify: prepared once per connection when the feature passes `preparedQueries`. */
  constructor(private readonly db: DataSource, private readonly q: Queryable = db, private readonly hot: Queryable = q) {}

  /** The same repository on a transaction (or another pool). */
  with(q: Queryable): FraudRepository {
    return new FraudRepository(this.db, q);
  }

  /**
   * Deletes up to `limit` events of one kind older than `days` days (by the database's clock), through the
   * (kind, created_at) index the guard already keeps: no extra index on a table every send writes to. Rows another
   * instance's sweep is deleting are skipped, not waited for.
   */
  async deleteEventsOlderThan(kind: FraudEventKind, days: number, limit: number): Promise<number> {
    const rows = await queryRows(this.q,
      `DELETE FROM fraud_events WHERE id IN (
         SELECT id FROM fraud_events WHERE kind = $1 AND created_at < now() - make_interval(days => $2) ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
       ) RETURNING 1`, [kind, days, limit]);
    return rows.length;
  }

  async insertEvent(event: NewFraudEvent): Promise<void> {
    const { sql, params } = FraudRepository.insertEventStatement(event);
    await this.hot.query(sql, params);
  }

  /** The INSERT of {@link insertEvent}, for a caller that sends it with others (the otp send's pipelined message). */
  /** The INSERT of one event; with `from`, one per row of `from` (a CTE of the caller's statement), so none when it is empty. */
  static insertEventStatement(event: NewFraudEvent, from?: string): { sql: string; params: unknown[] } {
    return {
      sql: `INSERT INTO fraud_events (kind, reason, monitored, prefix, country, number_type, masked_number, channels, source, rule_id, otp_request_id, api_key_id, user_id, detail)
       ${from ? 'SELECT ' : 'VALUES ('}$1::varchar, $2::varchar, $3::boolean, $4::varchar, $5::varchar, $6::varchar, $7::varchar, $8::varchar[], $9::varchar, $10::int, $11::uuid, $12::uuid, $13::uuid, $14::text${from ? ` FROM ${from}` : ')'}`,
      params: [event.kind, event.reason ?? null, event.monitored ?? false, event.prefix, event.country, event.numberType, event.maskedNumber, event.channels,
        event.source, event.ruleId, event.otpRequestId ?? null, event.apiKeyId ?? null, event.userId ?? null, event.detail ?? null],
    };
  }

  /** The block in force on a prefix (the one lasting longest), or null. */
  async activeBlock(prefix: string): Promise<FraudPrefixBlockEntity | null> {
    const rows = await queryRows(this.q, `SELECT * FROM fraud_prefix_blocks WHERE prefix = $1 AND lifted_at IS NULL AND expires_at > now() ORDER BY expires_at DESC LIMIT 1`, [prefix]);
    return rows[0] ? toBlock(rows[0]) : null;
  }

  /**
   * {@link prefixState} as a check for the send's pipelined message: answers 0 when the prefix has no block in force
   * and its window is not due for one (fewer than `minSends` sends, or at least `minConversion` of them verified),
   * and otherwise fails on purpose (a cast of a marked text), so the message rolls back and the guard looks closer.
   * The text depends on a row (`win.sends`): a constant one would be folded, and fail, when the statement is planned.
   */
  static prefixCheckStatement(prefix: string, windowSeconds: number, minSends: number, minConversion: number): { sql: string; params: unknown[] } {
    return {
      sql: `WITH active AS (SELECT 1 FROM fraud_prefix_blocks WHERE prefix = $1 AND lifted_at IS NULL AND expires_at > now() LIMIT 1),
            win AS (
              SELECT count(*) FILTER (WHERE kind = 'SENT') AS sends, count(*) FILTER (WHERE kind = 'VERIFIED') AS verified
                FROM fraud_events
               WHERE prefix = $1 AND NOT EXISTS (SELECT 1 FROM active)
                 AND created_at > greatest(now() - make_interval(secs => $2),
                       (SELECT coalesce(max(coalesce(lifted_at, expires_at)), '-infinity') FROM fraud_prefix_blocks WHERE prefix = $1)))
       SELECT CASE WHEN EXISTS (SELECT 1 FROM active) OR (win.sends >= $3::int AND win.verified < win.sends * $4::float8)
                   THEN CAST('${SCREEN_CHECK_FAILED}:' || win.sends::text AS int) ELSE 0 END AS screened
         FROM win`,
      params: [prefix, windowSeconds, minSends, minConversion],
    };
  }

  /**
   * The block in force on a prefix, else its sends and verifications over the sliding window, counted from the end of
   * its last block if that is later (a block that ended, or was lifted, starts the prefix afresh). One statement: every
   * screened send runs it.
   */
  async prefixState(prefix: string, windowSeconds: number): Promise<{ block: FraudPrefixBlockEntity | null; window: PrefixWindow }> {
    const [row] = await queryRows(this.hot,
      `WITH active AS (SELECT * FROM fraud_prefix_blocks WHERE prefix = $1 AND lifted_at IS NULL AND expires_at > now() ORDER BY expires_at DESC LIMIT 1)
       SELECT (SELECT to_jsonb(active) FROM active) AS block,
              count(*) FILTER (WHERE kind = 'SENT')::int AS sends, count(*) FILTER (WHERE kind = 'VERIFIED')::int AS verified
         FROM fraud_events
        WHERE prefix = $1 AND NOT EXISTS (SELECT 1 FROM active)
          AND created_at > greatest(now() - make_interval(secs => $2),
                (SELECT coalesce(max(coalesce(lifted_at, expires_at)), '-infinity') FROM fraud_prefix_blocks WHERE prefix = $1))`,
      [prefix, windowSeconds]);
    const block = row.block ? toBlock({ ...row.block, created_at: new Date(row.block.created_at), expires_at: new Date(row.block.expires_at), lifted_at: null }) : null;
    return { block, window: { sends: row.sends, verified: row.verified } };
  }

  /**
   * Blocks a prefix, escalating with each block in the last `escalationDays` that no admin lifted: the n-th block lasts
   * `hours[n - 1]` (the last entry repeats). Serialised per prefix, so parallel sends create one block.
   */
  async blockPrefix(prefix: string, country: string | null, window: PrefixWindow, reason: string, hours: number[], escalationDays: number): Promise<FraudPrefixBlockEntity> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('fraud_prefix_block:' || $1))`, [prefix]);
      const active = await this.with(tx).activeBlock(prefix);
      if (active) return active;
      const [{ earlier }] = await tx.query(
        `SELECT count(*)::int AS earlier FROM fraud_prefix_blocks WHERE prefix = $1 AND lifted_at IS NULL AND created_at > now() - make_interval(days => $2)`,
        [prefix, escalationDays]);
      const level = earlier + 1;
      const duration = hours[Math.min(level, hours.length) - 1];
      const rows = await tx.query(
        `INSERT INTO fraud_prefix_blocks (prefix, country, level, reason, sends, verified, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7)) RETURNING *`,
        [prefix, country, level, reason, window.sends, window.verified, duration]);
      return toBlock(rows[0]);
    });
  }

  /** Lifts every block in force on a prefix; returns the lifted ones. */
  async liftBlocks(prefix: string, userId: string): Promise<FraudPrefixBlockEntity[]> {
    const rows = await queryRows(this.q,
      `UPDATE fraud_prefix_blocks SET lifted_at = now(), lifted_by = $2 WHERE prefix = $1 AND lifted_at IS NULL AND expires_at > now() RETURNING *`,
      [prefix, userId]);
    return rows.map(toBlock);
  }

  /** Prefix blocks, newest first (a keyset page); `activeOnly` keeps those in force. */
  blocks(activeOnly: boolean, first: number, after?: string | null): Promise<PageSource<FraudPrefixBlockEntity>> {
    const where = activeOnly ? ['lifted_at IS NULL', 'expires_at > now()'] : [];
    return newestFirstPage(this.q, { list: 'PrefixBlock', table: 'fraud_prefix_blocks', idType: 'uuid', where, params: [], toEntity: toBlock }, first, after);
  }

  /** Refused sends in a time range, newest first (a keyset page, on the (kind, created_at) index). */
  blockedSends(range: TimeRange, reason: BlockReason | null, first: number, after?: string | null): Promise<PageSource<FraudEventEntity>> {
    const where = [`kind = 'BLOCKED'`, 'created_at >= $1', 'created_at < $2', '($3::text IS NULL OR reason = $3)'];
    return newestFirstPage(this.q, {
      list: 'BlockedSend', table: 'fraud_events', idType: 'bigint', where, params: [range.from, range.to, reason], toEntity: toEvent,
    }, first, after);
  }

  /** Sends, verifications, refusals and flagged sends per country, channel, source and rule in a time range; busiest first. */
  async summary(range: TimeRange, offset: number, limit: number): Promise<{ rows: SummaryRow[]; total: () => Promise<number> }> {
    const grouped = `SELECT country, channel, source, rule_id,
                            count(*) FILTER (WHERE kind = 'SENT')::int AS sends,
                            count(*) FILTER (WHERE kind = 'VERIFIED')::int AS verified,
                            count(*) FILTER (WHERE kind = 'BLOCKED')::int AS blocked,
                            count(*) FILTER (WHERE kind = 'SENT' AND monitored)::int AS monitored
                       FROM fraud_events, unnest(channels) AS channel
                      WHERE created_at >= $1 AND created_at < $2
                      GROUP BY country, channel, source, rule_id`;
    const rows = await queryRows(this.q, `${grouped} ORDER BY sends DESC, blocked DESC, country NULLS LAST, channel, source, rule_id NULLS FIRST OFFSET $3 LIMIT $4`,
      [range.from, range.to, offset, limit]);
    return {
      rows: rows.map((r) => ({ country: r.country, channel: r.channel, source: r.source, ruleId: r.rule_id, sends: r.sends, verified: r.verified, blocked: r.blocked, monitored: r.monitored })),
      total: async () => (await queryRows(this.q, `SELECT count(*)::int AS n FROM (${grouped}) AS g`, [range.from, range.to]))[0].n,
    };
  }

  /** Verified ÷ sent per country over the last `windowSeconds` (countries with sends only). */
  async conversionByCountry(windowSeconds: number): Promise<Array<{ country: string; sends: number; verified: number }>> {
    return queryRows(this.q,
      `SELECT country, count(*) FILTER (WHERE kind = 'SENT')::int AS sends, count(*) FILTER (WHERE kind = 'VERIFIED')::int AS verified
         FROM fraud_events WHERE country IS NOT NULL AND created_at > now() - make_interval(secs => $1)
        GROUP BY country HAVING count(*) FILTER (WHERE kind = 'SENT') > 0`, [windowSeconds]);
  }

  geoPermissions(): Promise<FraudGeoPermissionEntity[]> {
    return this.db.getRepository(FraudGeoPermissionEntity).find({ order: { country: 'ASC' } });
  }

  async setGeoPermission(country: string, action: GeoAction, userId: string): Promise<void> {
    await this.q.query(
      `INSERT INTO fraud_geo_permissions (country, action, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (country) DO UPDATE SET action = excluded.action, updated_by = excluded.updated_by, updated_at = now()`,
      [country, action, userId]);
  }

  async removeGeoPermission(country: string): Promise<boolean> {
    return (await queryRows(this.q, `DELETE FROM fraud_geo_permissions WHERE country = $1 RETURNING country`, [country])).length > 0;
  }

  safeList(): Promise<FraudSafeListEntryEntity[]> {
    return this.db.getRepository(FraudSafeListEntryEntity).find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Null when the value is already on the list. */
  async addSafeListEntry(kind: SafeListKind, value: string, note: string | null, userId: string): Promise<FraudSafeListEntryEntity | null> {
    const rows = await queryRows(this.q,
      `INSERT INTO fraud_safe_list (kind, value, note, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (value) DO NOTHING RETURNING *`,
      [kind, value, note, userId]);
    return rows[0] ? toSafe(rows[0]) : null;
  }

  async removeSafeListEntry(id: string): Promise<FraudSafeListEntryEntity | null> {
    const rows = await queryRows(this.q, `DELETE FROM fraud_safe_list WHERE id = $1 RETURNING *`, [id]);
    return rows[0] ? toSafe(rows[0]) : null;
  }
}

function toBlock(r: Record<string, any>): FraudPrefixBlockEntity {
  return Object.assign(new FraudPrefixBlockEntity(), {
    id: r.id, prefix: r.prefix, country: r.country, level: r.level, reason: r.reason, sends: r.sends, verified: r.verified,
    createdAt: r.created_at, expiresAt: r.expires_at, liftedAt: r.lifted_at, liftedBy: r.lifted_by,
  });
}

function toEvent(r: Record<string, any>): FraudEventEntity {
  return Object.assign(new FraudEventEntity(), {
    id: r.id, kind: r.kind, reason: r.reason, monitored: r.monitored, prefix: r.prefix, country: r.country, numberType: r.number_type,
    maskedNumber: r.masked_number, channels: r.channels, source: r.source, ruleId: r.rule_id, otpRequestId: r.otp_request_id,
    apiKeyId: r.api_key_id, userId: r.user_id, detail: r.detail, createdAt: r.created_at,
  });
}

function toSafe(r: Record<string, any>): FraudSafeListEntryEntity {
  return Object.assign(new FraudSafeListEntryEntity(), { id: r.id, kind: r.kind, value: r.value, note: r.note, createdAt: r.created_at, createdBy: r.created_by });
}
