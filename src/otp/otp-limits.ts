import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '../core/config';
import { ErrorCode, RetryLaterException } from '../core/errors';
import { sqlState } from '../db/sql';
import type { Statement } from '../db/pipelined-sql';

type OtpLimitConfig = Pick<AppConfig, 'OTP_MAX_ATTEMPTS' | 'OTP_SEND_LIMIT_PER_KEY_MINUTE' | 'OTP_SEND_LIMIT_PER_RECIPIENT_15MIN' | 'OTP_SEND_LIMIT_PER_RECIPIENT_DAY' | 'OTP_VALIDITY_SECONDS' | 'OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY'
  | 'OTP_SEND_LIMIT_PER_USER_MINUTE' | 'OTP_SEND_LIMIT_PER_KEY_DAY' | 'OTP_SEND_LIMIT_PER_IP_MINUTE' | 'OTP_SEND_LIMIT_GLOBAL_MINUTE'>;

/** Who sends: the API key (null for JWT callers), the acting user and the client's address. */
export interface SendCaller {
  apiKey: string | null;
  userId: string;
  ip: string | null;
}

/** RATE_LIMITED with the seconds to wait; REST turns it into 429 + Retry-After. */
export class RateLimitedException extends RetryLaterException {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds, ErrorCode.RATE_LIMITED, message);
  }
}

const TABLE = 'otp_rate_limits'; // created by the Otp migration

/** See {@link OtpLimits.verifyBudget}: spent when a row of `keys` holds `points` or more and has not expired at `nowMs`. */
export interface VerifyBudget { keys: string[]; points: number; nowMs: number }

/** One window of one send limit: rate-limiter-flexible's row key is `${prefix}:${key}`, its expiry epoch milliseconds. */
interface SendLimit { prefix: string; points: number; durationMs: number; message: string }

/** What the send statement raises when a limit refuses: a cast error whose text names us, so nothing else is mistaken for it. */
const REFUSED = 'countersign-send-limit-refused';

/**
 * All of a send's limits in one statement: every row is incremented (or reset, past its window) by one upsert in key
 * order, which locks the rows and reads their latest values whatever the other instances did; when any of them is
 * now past its limit the statement fails on purpose, so Postgres rolls every increment back: all or nothing.
 */
const CONSUME_SEND_SQL = `
  WITH wanted AS (
    SELECT w.key, w.points_max, w.duration_ms FROM unnest($1::text[], $2::int[], $3::bigint[]) AS w(key, points_max, duration_ms)
  ), taken AS (
    INSERT INTO ${TABLE} AS l (key, points, expire)
    SELECT key, 1, $4::bigint + duration_ms FROM wanted ORDER BY key
    ON CONFLICT (key) DO UPDATE SET
      points = CASE WHEN l.expire <= $4::bigint THEN 1 ELSE l.points + 1 END,
      expire = CASE WHEN l.expire <= $4::bigint THEN EXCLUDED.expire ELSE l.expire END
    RETURNING l.key, l.points
  )
  SELECT CASE WHEN bool_or(t.points > w.points_max) THEN CAST('${REFUSED}:' || min(t.key) AS int) ELSE 0 END AS refused
    FROM taken t JOIN wanted w ON w.key = t.key`;

/**
 * The abuse limits (sends per recipient per 15 min and per day, sends per API key per minute, failed verifications
 * per recipient per day; optionally sends per user per minute, per API key per day, per client address per minute and
 * in all per minute), counted in Postgres by rate-limiter-flexible, so every server instance shares them.
 * Keys are recipients (E.164 or lower-cased email) and API keys (or users, for JWT callers).
 */
export class OtpLimits {
  private readonly verifyFailures: RateLimiterPostgres;
  /** Wrong guesses against a recipient with no pending OTP, so they get the answers a real request would give. */
  private readonly phantomAttempts: RateLimiterPostgres;

  private readonly sendPerKey: SendLimit;
  private readonly sendPer15Min: SendLimit;
  private readonly sendPerDay: SendLimit;
  /** Extra send limits (issue 11 item 4), each null when configured as 0 (off). */
  private readonly sendPerUser: SendLimit | null;
  private readonly sendPerKeyDay: SendLimit | null;
  private readonly sendPerIp: SendLimit | null;
  /** One row for every send of every instance: while on, each send holds its lock from its limits statement to its commit. */
  private readonly sendGlobal: SendLimit | null;

  constructor(private readonly pool: Pool, config: OtpLimitConfig) {
    // All limits share one table, so one limiter (verifyFailures) sweeps its expired rows (every 5 minutes, unref'd timer).
    const make = (keyPrefix: string, points: number, duration: number, clearExpiredByTimeout = false) => new RateLimiterPostgres({
      storeClient: pool, storeType: 'pool', tableName: TABLE, tableCreated: true, keyPrefix, points, duration, clearExpiredByTimeout,
    });
    this.verifyFailures = make('otp_verify_fail', config.OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY, 24 * 3600, true);
    this.phantomAttempts = make('otp_phantom', config.OTP_MAX_ATTEMPTS, config.OTP_VALIDITY_SECONDS);
    // rate-limiter-flexible's row layout (key `${prefix}:${key}`, expiry in epoch ms), so the sweep above clears these rows too
    this.sendPerKey = { prefix: 'otp_send_key', points: config.OTP_SEND_LIMIT_PER_KEY_MINUTE, durationMs: 60_000, message: 'Too many OTPs were sent with this API key.' };
    this.sendPer15Min = { prefix: 'otp_send_15m', points: config.OTP_SEND_LIMIT_PER_RECIPIENT_15MIN, durationMs: 15 * 60_000, message: 'Too many OTPs were sent to this recipient.' };
    this.sendPerDay = { prefix: 'otp_send_day', points: config.OTP_SEND_LIMIT_PER_RECIPIENT_DAY, durationMs: 24 * 3600_000, message: 'Too many OTPs were sent to this recipient today.' };
    const optional = (prefix: string, points: number, durationMs: number, message: string): SendLimit | null => (points > 0 ? { prefix, points, durationMs, message } : null);
    this.sendPerUser = optional('otp_send_user', config.OTP_SEND_LIMIT_PER_USER_MINUTE, 60_000, 'Too many OTPs were sent by this user in the last minute.');
    this.sendPerKeyDay = optional('otp_send_key_day', config.OTP_SEND_LIMIT_PER_KEY_DAY, 24 * 3600_000, 'Too many OTPs were sent with this API key today.');
    this.sendPerIp = optional('otp_send_ip', config.OTP_SEND_LIMIT_PER_IP_MINUTE, 60_000, 'Too many OTPs were requested from this address in the last minute.');
    this.sendGlobal = optional('otp_send_global', config.OTP_SEND_LIMIT_GLOBAL_MINUTE, 60_000, 'Too many OTPs are being sent right now.');
  }

  /**
   * One send (or resend) by `caller` to `recipients`; throws RATE_LIMITED when any limit is spent. All or nothing, in
   * one statement (see CONSUME_SEND_SQL): a refused send changes no counter. Give the points back with `refundSend`
   * when the send is refused after this call.
   */
  async consumeSend(caller: SendCaller | null, recipients: string[]): Promise<void> {
    const { sql, params } = this.consumeSendStatement(caller, recipients);
    try {
      await this.pool.query(sql, params);
    } catch (error) {
      if (!this.isRefusal(error)) throw error;
      throw await this.refusal(caller, recipients);
    }
  }

  /**
   * The statement of {@link consumeSend}, to run inside a caller's transaction (the send's pipelined message): when a
   * limit refuses it fails with an error {@link isRefusal} recognises, and the caller's transaction rolls back whole.
   */
  consumeSendStatement(caller: SendCaller | null, recipients: string[]): Statement {
    const steps = this.sendSteps(caller, recipients);
    return { sql: CONSUME_SEND_SQL, params: [steps.map((s) => s.key), steps.map((s) => s.limit.points), steps.map((s) => s.limit.durationMs), Date.now()] };
  }

  /** The error of a send statement refused by a limit (see CONSUME_SEND_SQL). */
  isRefusal(error: unknown): boolean {
    return sqlState(error) === '22P02' && String((error as Error)?.message).includes(REFUSED);
  }

  /**
   * Gives back what `consumeSend` took, for a send refused afterwards (e.g. by the resend cooldown): one statement. The
   * rows are locked in key order, as `consumeSend` takes them: concurrent refunds of the same keys locking them in
   * physical order deadlocked (40P01, a 500) under 30–50 parallel refused sends.
   */
  async refundSend(caller: SendCaller | null, recipients: string[]): Promise<void> {
    const keys = this.sendSteps(caller, recipients).map((s) => s.key);
    await this.pool.query(
      `UPDATE ${TABLE} SET points = GREATEST(points - 1, 0)
        WHERE key IN (SELECT key FROM ${TABLE} WHERE key = ANY($1::text[]) AND expire > $2::bigint ORDER BY key FOR UPDATE)`,
      [keys, Date.now()]);
  }

  /**
   * The limits of one send, in the order their refusals are reported: the caller's (key per minute, then the extra
   * limits that are on: user per minute, key per day, client address per minute, global per minute), then each recipient's.
   */
  private sendSteps(caller: SendCaller | null, recipients: string[]): Array<{ key: string; limit: SendLimit }> {
    const steps: Array<{ key: string; limit: SendLimit }> = [];
    if (caller) {
      const key = caller.apiKey ? `key:${caller.apiKey}` : `user:${caller.userId}`; // JWT callers count as their user
      const callerSteps: Array<[SendLimit | null, string | null]> = [
        [this.sendPerKey, key], [this.sendPerUser, caller.userId], [this.sendPerKeyDay, key], [this.sendPerIp, caller.ip], [this.sendGlobal, 'all'],
      ];
      for (const [limit, id] of callerSteps) if (limit && id !== null) steps.push({ key: `${limit.prefix}:${id}`, limit });
    }
    for (const recipient of recipients) {
      steps.push({ key: `${this.sendPer15Min.prefix}:${recipient}`, limit: this.sendPer15Min });
      steps.push({ key: `${this.sendPerDay.prefix}:${recipient}`, limit: this.sendPerDay });
    }
    return steps;
  }

  /** Which limit refused (the first spent one, in step order) and when it frees up; read after the refused statement. */
  async refusal(caller: SendCaller | null, recipients: string[]): Promise<RateLimitedException> {
    const { sql, params } = this.refusalStatement(caller, recipients);
    return this.refusalFrom((await this.pool.query(sql, params)).rows, caller, recipients);
  }

  /** The read {@link refusal} makes, for a caller that runs it itself (after a failed pipelined message, on its connection). */
  refusalStatement(caller: SendCaller | null, recipients: string[]): Statement {
    return { sql: `SELECT key, points, expire FROM ${TABLE} WHERE key = ANY($1::text[])`, params: [this.sendSteps(caller, recipients).map((s) => s.key)] };
  }

  /** {@link refusal} from the rows of {@link refusalStatement}. */
  refusalFrom(rows: Array<Record<string, unknown>>, caller: SendCaller | null, recipients: string[]): RateLimitedException {
    const steps = this.sendSteps(caller, recipients);
    const now = Date.now();
    const byKey = new Map((rows as Array<{ key: string; points: number; expire: string | null }>).map((r) => [r.key, r]));
    for (const step of steps) {
      const row = byKey.get(step.key);
      if (row && Number(row.expire) > now && row.points + 1 > step.limit.points) return new RateLimitedException(seconds(Number(row.expire) - now), step.limit.message);
    }
    // the spent window ended between the two statements: the caller may simply try again
    return new RateLimitedException(1, steps[0]?.limit.message ?? 'Too many OTPs were sent.');
  }

  /**
   * Takes one failure from each recipient's daily verify budget before the code is checked, so parallel guesses can
   * never overrun it (a check-then-count would let every guess in flight through); throws RATE_LIMITED when spent.
   * Give the point back with `refundVerifyFailure` when the verification did not fail.
   */
  async reserveVerifyFailure(recipients: string[]): Promise<void> {
    const taken: string[] = [];
    for (const recipient of recipients) {
      try {
        await this.verifyFailures.consume(recipient);
        taken.push(recipient);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        await this.refundVerifyFailure([...taken, recipient]); // a refused guess is not a counted failure
        throw new RateLimitedException(seconds(error.msBeforeNext), 'Too many failed verifications for this recipient.');
      }
    }
  }

  /**
   * The rows of the recipients' daily verify budgets and the points that spend one, for a statement that must not
   * proceed once any budget is spent (a right code: it takes no point, but is refused as `reserveVerifyFailure` would be).
   */
  verifyBudget(recipients: string[]): VerifyBudget {
    return { keys: recipients.map((r) => this.verifyFailures.getKey(r)), points: this.verifyFailures.points, nowMs: Date.now() };
  }

  async refundVerifyFailure(recipients: string[]): Promise<void> {
    for (const recipient of recipients) await this.verifyFailures.reward(recipient);
  }

  /** Counts a guess against a recipient with no pending OTP; returns how many "attempts" it has left. */
  async phantomAttempt(key: string): Promise<number> {
    try {
      const res = await this.phantomAttempts.consume(key);
      return res.remainingPoints;
    } catch (error) {
      ignoreRejection(error);
      return -1;
    }
  }
}

function ignoreRejection(error: unknown): void {
  if (!(error instanceof RateLimiterRes)) throw error;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
