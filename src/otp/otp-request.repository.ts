import { isUuid } from '../core/ids';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { queryRows, type Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { shiftParams, type Statement } from '../db/pipelined-sql';
import { maskedRecipients, otpCanceledRowsSql, otpFailedAttemptRowsSql, otpVerifiedRowsSql } from './otp.events';
import type { VerifyBudget } from './otp-limits';
import { toOtpRequestEntity, type OtpCancelReason, type OtpIssuer, type OtpRequestEntity, type OtpStatus } from './otp-request.entity';

export interface OtpRequestFilter {
  status?: OtpStatus | null;
  source?: string | null;
  recordId?: string | null;
}

/** Whose requests a caller may see: only those `sentBy` sent, or (null, admins) all. */
export type SentBy = string | null;

/** A new row of otp_requests (the columns a send sets; the rest take their defaults); `validitySeconds` also sets its expiry. */
export type NewOtpRequest = Pick<OtpRequestEntity,
  'id' | 'channels' | 'mobile' | 'email' | 'emailFromName' | 'emailSubject' | 'emailTemplateId' | 'emailTemplateAttributes' | 'source'
  | 'type' | 'codeLength' | 'codeType' | 'codeHash' | 'codeSealed' | 'codeCallerSupplied' | 'testRecipient' | 'validitySeconds' | 'maxAttempts'
  | 'maxResends' | 'resendCooldownSeconds' | 'resendMode' | 'ruleId' | 'recordId' | 'userId' | 'apiKeyId' | 'issuedBy' | 'intendedFields'
  | 'smsTemplateId' | 'whatsappTemplateId' | 'messageVariables'>;

/** What one live OTP is kept for (see {@link purposeOf}). */
export interface OtpPurpose {
  /** Advisory lock keys, sorted so two sends never wait on each other in opposite orders. */
  lockKeys: string[];
  /** The live-OTP unique indexes' key columns for this send, as a WHERE clause over `params`. */
  sql: string;
  params: unknown[];
}

/**
 * The OTP requests a rule may use for a record: issued by the rule's own send path with a server-generated code, to
 * the recipient the rule names for the record (`mobile`/`email`), and, when that is the acting user's email, sent by
 * that user (`sentBy`).
 */
export interface RuleOtpBinding {
  ruleId: number;
  recordId: string;
  mobile: string | null;
  email: string | null;
  sentBy: string | null;
}

/**
 * What one live OTP is kept for: a rule OTP's rule and record; otherwise each stored recipient with the source and the
 * sending key's owner (the partial unique indexes of otp_requests say the same).
 */
export function purposeOf(
  send: { issuedBy: OtpIssuer; ruleId: number | null; recordId: string | null; mobile: string | null; email: string | null; source: string },
  userId: string,
): OtpPurpose {
  if (send.issuedBy === 'RULE') {
    return {
      lockKeys: [`otp-live:rule:${send.ruleId}:${send.recordId}`],
      sql: `issued_by = 'RULE' AND rule_id = $1 AND record_id = $2`,
      params: [send.ruleId, send.recordId],
    };
  }
  const keys = [
    send.mobile && `otp-live:mobile:${send.mobile}:${send.source}:${userId}`,
    send.email && `otp-live:email:${send.email}:${send.source}:${userId}`,
  ].filter((k): k is string => !!k).sort();
  return {
    lockKeys: keys,
    sql: `issued_by = 'API' AND source = $3 AND user_id = $4 AND (mobile = $1 OR email = $2)`,
    params: [send.mobile, send.email, send.source, userId],
  };
}

/**
 * Every SQL statement on otp_requests. Other features reach these rows only through the otp service. Statements run
 * on the queryable the repository was made with; `with(tx)` gives the same repository inside a caller's transaction.
 */
export class OtpRequestRepository {
  /**
   * `hot` (default: `db`) runs the statements of every verify (find, consume, count a wrong code) outside a caller's
   * transaction: the service passes a pool whose statements are prepared once per connection (`preparedQueries`).
   */
  constructor(private readonly db: Queryable, private readonly hot: Queryable = db) {}

  with(q: Queryable): OtpRequestRepository {
    return q === this.db ? this : new OtpRequestRepository(q);
  }

  async findById(id: string): Promise<OtpRequestEntity | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query('SELECT * FROM otp_requests WHERE id = $1', [id]);
    return row ? toOtpRequestEntity(row) : null;
  }

  /** A request the caller may see, or null. */
  async findVisible(id: string, sentBy: SentBy): Promise<OtpRequestEntity | null> {
    if (!isUuid(id)) return null;
    const visible = visibility(sentBy, 2);
    const [row] = await this.hot.query(`SELECT * FROM otp_requests WHERE id = $1 AND ${visible.sql}`, [id, ...visible.params]);
    return row ? toOtpRequestEntity(row) : null;
  }

  /**
   * The newest sendOtp request of the last day for the recipient and source that the caller may see: only it answers a
   * verify (a superseded or older one never does, and rule OTPs are used only by the saves they guard).
   */
  async findNewestSentTo(mobile: string | null, email: string | null, source: string, sentBy: SentBy): Promise<OtpRequestEntity | null> {
    const visible = visibility(sentBy, 4);
    const [row] = await this.hot.query(
      `SELECT * FROM otp_requests
        WHERE (mobile = $1 OR email = $2) AND source = $3 AND issued_by = 'API' AND ${visible.sql} AND created_at > now() - interval '1 day'
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      [mobile, email, source, ...visible.params],
    );
    return row ? toOtpRequestEntity(row) : null;
  }

  async page(filter: OtpRequestFilter, sentBy: SentBy, first: number, after?: string | null): Promise<PageSource<OtpRequestEntity>> {
    const params: unknown[] = [];
    const where: string[] = [];
    const visible = visibility(sentBy, 1);
    where.push(visible.sql);
    params.push(...visible.params);
    if (filter.status) {
      params.push(filter.status);
      where.push(`(CASE WHEN status = 'PENDING' AND expires_at <= now() THEN 'EXPIRED' ELSE status END) = $${params.length}`);
    }
    if (filter.source) {
      params.push(filter.source);
      where.push(`source = $${params.length}`);
    }
    if (filter.recordId) {
      if (!isUuid(filter.recordId)) where.push('false');
      else {
        params.push(filter.recordId);
        where.push(`record_id = $${params.length}`);
      }
    }
    const countWhere = [...where];
    const countParams = [...params];
    if (after) {
      const [createdAt, id] = decodeCursor(after, ['timestamp', 'uuid']) as [string, string];
      params.push(createdAt, id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(first + 1);
    const rows: Array<Record<string, any>> = await this.db.query(
      `SELECT * FROM otp_requests WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`, params,
    );
    return {
      rows: rows.map(toOtpRequestEntity),
      first,
      cursorOf: (r) => encodeCursor([r.createdAt.toISOString(), r.id]),
      count: async () => (await this.db.query(`SELECT count(*)::int AS n FROM otp_requests WHERE ${countWhere.join(' AND ')}`, countParams))[0].n,
    };
  }

  /** Serialises the sends of one purpose until the transaction ends. */
  async lockPurpose(purpose: OtpPurpose): Promise<void> {
    for (const key of purpose.lockKeys) await this.db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  /** The purpose's pending requests, newest first, locked; one past its expiry (it still holds the unique index) is settled first. */
  async livePending(purpose: OtpPurpose): Promise<OtpRequestEntity[]> {
    await this.db.query(`UPDATE otp_requests SET ${SETTLE_EXPIRED_SET}
                          WHERE ${purpose.sql} AND status = 'PENDING' AND expires_at <= now()`, purpose.params);
    const rows: Array<Record<string, any>> = await this.db.query(
      `SELECT * FROM otp_requests WHERE ${purpose.sql} AND status = 'PENDING' ORDER BY created_at DESC FOR UPDATE`, purpose.params);
    return rows.map(toOtpRequestEntity);
  }

  async insert(request: NewOtpRequest): Promise<OtpRequestEntity> {
    const { sql, params } = OtpRequestRepository.insertStatement(request);
    const [row] = await this.db.query(sql, params);
    return toOtpRequestEntity(row);
  }

  /** The INSERT of a new request (RETURNING *), for {@link insert} and the send's pipelined transaction. */
  static insertStatement(request: NewOtpRequest): Statement {
    const r = request;
    return {
      sql: `INSERT INTO otp_requests (id, channels, mobile, email, email_from_name, email_subject, email_template_id, email_template_attributes,
         source, type, code_length, code_type, code_hash, code_sealed, code_caller_supplied, test_recipient, expires_at, max_attempts,
         max_resends, resend_cooldown_seconds, resend_mode, validity_seconds, rule_id, record_id, user_id, api_key_id,
         issued_by, intended_fields, sms_template_id, whatsapp_template_id, message_variables)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now() + make_interval(secs => $17), $18,
         $19, $20, $21, $17, $22, $23, $24, $25, $26, $27, $28, $29, $30)
       RETURNING *`,
      params: [r.id, r.channels, r.mobile, r.email, r.emailFromName, r.emailSubject, r.emailTemplateId, r.emailTemplateAttributes, r.source, r.type,
        r.codeLength, r.codeType, r.codeHash, r.codeSealed, r.codeCallerSupplied, r.testRecipient, r.validitySeconds, r.maxAttempts,
        r.maxResends, r.resendCooldownSeconds, r.resendMode, r.ruleId, r.recordId, r.userId, r.apiKeyId, r.issuedBy,
        r.intendedFields === null ? null : JSON.stringify(r.intendedFields), r.smsTemplateId, r.whatsappTemplateId, JSON.stringify(r.messageVariables)],
    };
  }

  /**
   * A NEW_CODE send's writes before its INSERT, as statements for one pipelined transaction: the purpose's advisory
   * locks, then (under them) a live request past its expiry settled EXPIRED, then every live one SUPERSEDED (RETURNING
   * id) — what {@link lockPurpose}, {@link livePending} and {@link cancel} do in an interactive transaction.
   */
  static replaceLiveStatements(purpose: OtpPurpose, events: EventPublisher): Statement[] {
    return [
      ...purpose.lockKeys.map((key) => ({ sql: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', params: [key] })),
      { sql: `UPDATE otp_requests SET ${SETTLE_EXPIRED_SET}
               WHERE ${purpose.sql} AND status = 'PENDING' AND expires_at <= now()`, params: purpose.params },
      // the superseded ids are the database's: their otp.canceled events are written by the same statement
      events.statement({
        with: `superseded AS (
          UPDATE otp_requests SET status = 'CANCELED', cancel_reason = 'SUPERSEDED', code_sealed = NULL, updated_at = now()
           WHERE ${purpose.sql} AND status = 'PENDING' AND expires_at > now() RETURNING id)`,
        rows: otpCanceledRowsSql('superseded', 'SUPERSEDED'),
        select: 'SELECT id FROM superseded',
        params: purpose.params,
      }),
    ];
  }

  /** The one way a request is canceled: pending and unexpired ones only, their sealed code erased. */
  async cancel(ids: string[], reason: OtpCancelReason): Promise<OtpRequestEntity[]> {
    const rows = await queryRows(this.db,
      `UPDATE otp_requests SET status = 'CANCELED', cancel_reason = $2, code_sealed = NULL, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'PENDING' AND expires_at > now() RETURNING *`,
      [ids, reason],
    );
    return rows.map(toOtpRequestEntity);
  }

  /** One more send of a pending request (the new code's hash; same code: the expiry stays), if its cooldown has passed. */
  async markResent(id: string, codeHash: string, sameCode: boolean): Promise<OtpRequestEntity | null> {
    const [row] = await queryRows(this.db,
      `UPDATE otp_requests
          SET send_count = send_count + 1, last_sent_at = now(), updated_at = now(), code_hash = $2,
              expires_at = CASE WHEN $3 THEN expires_at ELSE now() + make_interval(secs => validity_seconds) END
        WHERE id = $1 AND status = 'PENDING' AND expires_at > now() AND send_count <= max_resends
          AND last_sent_at <= now() - make_interval(secs => resend_cooldown_seconds)
        RETURNING *`,
      [id, codeHash, sameCode],
    );
    return row ? toOtpRequestEntity(row) : null;
  }

  /** Consumes the code `codeHash` of a pending, unexpired request; null when it was not (or no longer) that. */
  async markVerified(id: string, codeHash: string): Promise<OtpRequestEntity | null> {
    const [row] = await queryRows(this.db,
      `UPDATE otp_requests SET status = 'VERIFIED', verified_at = now(), code_sealed = NULL, updated_at = now()
        WHERE id = $1 AND status = 'PENDING' AND expires_at > now() AND code_hash = $2 RETURNING *`,
      [id, codeHash],
    );
    return row ? toOtpRequestEntity(row) : null;
  }

  /**
   * {@link markVerified} in the same statement as the check of the recipients' verify budget: null also when a budget
   * is spent (the caller then takes the path that says which).
   */
  /**
   * `request` verified with its `otp.verified` event in one statement (one transaction), unless a verify budget is
   * spent. `counted` (the send screen's INSERT over the CTE `verified`, see SendScreen.verifiedStatement) rides in the
   * same statement, so it is written exactly when the code was consumed.
   */
  async markVerifiedWithinBudget(request: OtpRequestEntity, budget: VerifyBudget, events: EventPublisher, counted: Statement | null = null): Promise<OtpRequestEntity | null> {
    const own = [request.id, request.codeHash, budget.keys, budget.nowMs, budget.points, ...maskedRecipients(request)];
    const { sql, params } = events.statement({
      with: `verified AS (
        UPDATE otp_requests SET status = 'VERIFIED', verified_at = now(), code_sealed = NULL, updated_at = now()
         WHERE id = $1 AND status = 'PENDING' AND expires_at > now() AND code_hash = $2
           AND NOT EXISTS (SELECT 1 FROM otp_rate_limits WHERE key = ANY($3::text[]) AND expire > $4::bigint AND points >= $5::int)
        RETURNING *)${counted ? `,
      screen_counted AS (${shiftParams(counted.sql, own.length)})` : ''}`,
      rows: otpVerifiedRowsSql('verified', '$6', '$7'),
      select: 'SELECT * FROM verified',
      params: [...own, ...(counted?.params ?? [])],
    });
    const [row] = await queryRows(this.hot, sql, params);
    return row ? toOtpRequestEntity(row) : null;
  }

  /**
   * Counts one wrong code on a pending, unexpired request, locking it at its cap, with its `otp.failed_attempt` event in
   * the same statement; null when it was not pending.
   */
  async countWrongCode(id: string, events: EventPublisher): Promise<{ attempts: number; maxAttempts: number } | null> {
    const { sql, params } = events.statement({
      with: `counted AS (
        UPDATE otp_requests
           SET attempts = attempts + 1, updated_at = now(),
               status = CASE WHEN attempts + 1 >= max_attempts THEN 'MAX_ATTEMPTS_REACHED' ELSE status END,
               code_sealed = CASE WHEN attempts + 1 >= max_attempts THEN NULL ELSE code_sealed END
         WHERE id = $1 AND status = 'PENDING' AND expires_at > now() RETURNING id, attempts, max_attempts)`,
      rows: otpFailedAttemptRowsSql('counted'),
      select: 'SELECT attempts, max_attempts FROM counted',
      params: [id],
    });
    const [row] = await queryRows(this.hot, sql, params);
    return row ? { attempts: row.attempts, maxAttempts: row.max_attempts } : null;
  }

  /**
   * Stores EXPIRED on a request still PENDING past its expiry (it already reads as EXPIRED) and erases its sealed code;
   * the expiry sweep publishes its `otp.expired` ({@link SETTLE_EXPIRED_SET}).
   */
  async settleExpired(id: string): Promise<void> {
    await this.db.query(`UPDATE otp_requests SET ${SETTLE_EXPIRED_SET} WHERE id = $1 AND status = 'PENDING' AND expires_at <= now()`, [id]);
  }

  /** The live (pending, unexpired) OTP a rule may use for the record, newest first. */
  async liveForRule(binding: RuleOtpBinding): Promise<OtpRequestEntity | null> {
    const bound = ruleBound(binding);
    const [row] = await this.db.query(
      `SELECT * FROM otp_requests WHERE ${bound.sql} AND status = 'PENDING' AND expires_at > now() ORDER BY created_at DESC LIMIT 1`,
      bound.params,
    );
    return row ? toOtpRequestEntity(row) : null;
  }

  /** The newest OTP a rule may use for the record, whatever its state (a pending one first). */
  async latestForRule(binding: RuleOtpBinding): Promise<OtpRequestEntity | null> {
    const bound = ruleBound(binding);
    const [row] = await this.db.query(
      `SELECT * FROM otp_requests WHERE ${bound.sql} ORDER BY (status = 'PENDING') DESC, created_at DESC LIMIT 1`,
      bound.params,
    );
    return row ? toOtpRequestEntity(row) : null;
  }

  /** Sends (first sends and resends) of rule OTPs for the record from `source` in the last `windowSeconds`. */
  async ruleSendsSince(ruleId: number, recordId: string, source: string, windowSeconds: number): Promise<number> {
    const [{ sends }] = await this.db.query(
      `SELECT coalesce(sum(send_count), 0)::int AS sends FROM otp_requests
        WHERE rule_id = $1 AND record_id = $2 AND source = $3 AND issued_by = 'RULE' AND created_at > now() - make_interval(secs => $4)`,
      [ruleId, recordId, source, windowSeconds],
    );
    return sends;
  }

  /** The attempt cap frozen on the newest rule OTP for the record, or null when the rule never sent one. */
  async latestRuleAttemptCap(ruleId: number, recordId: string): Promise<number | null> {
    const [row] = await this.db.query(
      `SELECT max_attempts FROM otp_requests WHERE rule_id = $1 AND record_id = $2 AND issued_by = 'RULE' ORDER BY created_at DESC LIMIT 1`,
      [ruleId, recordId],
    );
    return row ? row.max_attempts : null;
  }

  /**
   * Kills the pending OTPs bound to the rule and record (MAX_ATTEMPTS_REACHED), skipping any a save holds locked, each
   * with an `otp.failed_attempt` saying it is locked (the rule's count reached the limit frozen on the OTP), in one
   * statement.
   */
  async lockOutForRule(ruleId: number, recordId: string, events: EventPublisher): Promise<void> {
    const { sql, params } = events.statement({
      with: `locked_out AS (
        UPDATE otp_requests SET status = 'MAX_ATTEMPTS_REACHED', code_sealed = NULL, updated_at = now()
         WHERE id IN (SELECT id FROM otp_requests WHERE rule_id = $1 AND record_id = $2 AND status = 'PENDING' FOR UPDATE SKIP LOCKED)
        RETURNING id, max_attempts AS attempts, max_attempts)`,
      rows: otpFailedAttemptRowsSql('locked_out'),
      select: 'SELECT count(*)::int AS locked FROM locked_out',
      params: [ruleId, recordId],
    });
    await this.db.query(sql, params);
  }
}

/**
 * How a verify or a send settles a pending request it met past its expiry, before the expiry sweep did: EXPIRED, the
 * sealed code erased, and marked for the sweep to publish its `otp.expired` (`sweepExpiredOtps`), whose payload is
 * built in JS (masked recipients) by the one `otpExpired` builder. Adds no statement to a send or a verify.
 */
const SETTLE_EXPIRED_SET = `status = 'EXPIRED', code_sealed = NULL, expiry_unannounced = true, updated_at = now()`;

function visibility(sentBy: SentBy, index: number): { sql: string; params: unknown[] } {
  if (sentBy === null) return { sql: 'true', params: [] };
  return { sql: `user_id = $${index}`, params: [sentBy] };
}

function ruleBound(binding: RuleOtpBinding): { sql: string; params: unknown[] } {
  const params: unknown[] = [binding.ruleId, binding.recordId, binding.mobile, binding.email];
  let sql = `rule_id = $1 AND record_id = $2 AND issued_by = 'RULE' AND NOT code_caller_supplied AND (mobile = $3 OR email = $4)`;
  if (binding.sentBy !== null) {
    params.push(binding.sentBy);
    sql += ' AND user_id = $5';
  }
  return { sql, params };
}
