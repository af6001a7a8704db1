import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '../core/config';

type OtpLimitConfig = Pick<AppConfig, 'OTP_MAX_ATTEMPTS' | 'OTP_SEND_LIMIT_PER_KEY_MINUTE' | 'OTP_SEND_LIMIT_PER_RECIPIENT_15MIN' | 'OTP_SEND_LIMIT_PER_RECIPIENT_DAY' | 'OTP_VALIDITY_SECONDS' | 'OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY'
  | 'OTP_SEND_LIMIT_PER_USER_MINUTE' | 'OTP_SEND_LIMIT_PER_KEY_DAY' | 'OTP_SEND_LIMIT_PER_IP_MINUTE' | 'OTP_SEND_LIMIT_GLOBAL_MINUTE'>;

/** Who sends: the API key (null for JWT callers), the acting user and the client's address. */
export interface SendCaller {
  apiKey: string | null;
  userId: string;
  ip: string | null;
}
import { ErrorCode, RetryLaterException } from '../core/errors';

/** RATE_LIMITED with the seconds to wait; REST turns it into 429 + Retry-After. */
export class RateLimitedException extends RetryLaterException {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds, ErrorCode.RATE_LIMITED, message);
  }
}

const TABLE = 'otp_rate_limits'; // created by the Otp migration

/**
 * The abuse limits (sends per recipient per 15 min and per day, sends per API key per minute, failed verifications
 * per recipient per day), counted in Postgres by rate-limiter-flexible, so every server instance shares them.
 * Keys are recipients (E.164 or lower-cased email) and API keys (or users, for JWT callers).
 */
export class OtpLimits {
  private readonly sendsPer15Min: RateLimiterPostgres;
  private readonly sendsPerDay: RateLimiterPostgres;
  private readonly sendsPerKey: RateLimiterPostgres;
  private readonly verifyFailures: RateLimiterPostgres;
  /** Wrong guesses against a recipient with no pending OTP, so they get the answers a real request would give. */
  private readonly phantomAttempts: RateLimiterPostgres;
  /** Extra send limits (issue 11 item 4), each null when configured as 0 (off). */
  private readonly sendsPerUser: RateLimiterPostgres | null;
  private readonly sendsPerKeyDay: RateLimiterPostgres | null;
  private readonly sendsPerIp: RateLimiterPostgres | null;
  private readonly sendsGlobal: RateLimiterPostgres | null;

  constructor(pool: Pool, config: OtpLimitConfig) {
    // All limiters share one table, so one of them (the first) sweeps its expired rows (every 5 minutes, unref'd timer).
    const make = (keyPrefix: string, points: number, duration: number, clearExpiredByTimeout = false) => new RateLimiterPostgres({
      storeClient: pool, storeType: 'pool', tableName: TABLE, tableCreated: true, keyPrefix, points, duration, clearExpiredByTimeout,
    });
    this.sendsPer15Min = make('otp_send_15m', config.OTP_SEND_LIMIT_PER_RECIPIENT_15MIN, 15 * 60, true);
    this.sendsPerDay = make('otp_send_day', config.OTP_SEND_LIMIT_PER_RECIPIENT_DAY, 24 * 3600);
    this.sendsPerKey = make('otp_send_key', config.OTP_SEND_LIMIT_PER_KEY_MINUTE, 60);
    this.verifyFailures = make('otp_verify_fail', config.OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY, 24 * 3600);
    this.phantomAttempts = make('otp_phantom', config.OTP_MAX_ATTEMPTS, config.OTP_VALIDITY_SECONDS);
    const optional = (keyPrefix: string, points: number, duration: number) => (points > 0 ? make(keyPrefix, points, duration) : null);
    this.sendsPerUser = optional('otp_send_user', config.OTP_SEND_LIMIT_PER_USER_MINUTE, 60);
    this.sendsPerKeyDay = optional('otp_send_key_day', config.OTP_SEND_LIMIT_PER_KEY_DAY, 24 * 3600);
    this.sendsPerIp = optional('otp_send_ip', config.OTP_SEND_LIMIT_PER_IP_MINUTE, 60);
    this.sendsGlobal = optional('otp_send_global', config.OTP_SEND_LIMIT_GLOBAL_MINUTE, 60);
  }

  /**
   * One send (or resend) by `caller` to `recipients`; throws RATE_LIMITED when any limit is spent. All or nothing: when
   * a limiter refuses, the points already taken by the others (and the refused one) are given back, so a refused send
   * never uses up another limit. Give them back with `refundSend` when the send is refused after this call.
   */
  async consumeSend(caller: SendCaller | null, recipients: string[]): Promise<void> {
    const taken: Array<[RateLimiterPostgres, string]> = [];
    const steps: Array<[RateLimiterPostgres, string, string]> = this.callerSteps(caller);
    for (const recipient of recipients) {
      steps.push([this.sendsPer15Min, recipient, 'Too many OTPs were sent to this recipient.']);
      steps.push([this.sendsPerDay, recipient, 'Too many OTPs were sent to this recipient today.']);
    }
    for (const [limiter, key, message] of steps) {
      try {
        await limiter.consume(key);
        taken.push([limiter, key]);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) {
          await refund(taken);
          throw error;
        }
        await refund([...taken, [limiter, key]]); // a refused send leaves every counter as it found it
        throw new RateLimitedException(seconds(error.msBeforeNext), message);
      }
    }
  }

  /** Gives back what `consumeSend` took, for a send refused afterwards (e.g. by the resend cooldown). */
  async refundSend(caller: SendCaller | null, recipients: string[]): Promise<void> {
    const taken: Array<[RateLimiterPostgres, string]> = this.callerSteps(caller).map(([limiter, key]) => [limiter, key]);
    for (const recipient of recipients) taken.push([this.sendsPer15Min, recipient], [this.sendsPerDay, recipient]);
    await refund(taken);
  }

  /** The per-caller entries of a send's all-or-nothing list: key per minute, then the extra limits that are on. */
  private callerSteps(caller: SendCaller | null): Array<[RateLimiterPostgres, string, string]> {
    if (!caller) return [];
    const key = caller.apiKey ? `key:${caller.apiKey}` : `user:${caller.userId}`; // JWT callers count as their user
    const steps: Array<[RateLimiterPostgres | null, string | null, string]> = [
      [this.sendsPerKey, key, 'Too many OTPs were sent with this API key.'],
      [this.sendsPerUser, caller.userId, 'Too many OTPs were sent by this user in the last minute.'],
      [this.sendsPerKeyDay, key, 'Too many OTPs were sent with this API key today.'],
      [this.sendsPerIp, caller.ip, 'Too many OTPs were requested from this address in the last minute.'],
      [this.sendsGlobal, 'all', 'Too many OTPs are being sent right now.'],
    ];
    return steps.filter((s): s is [RateLimiterPostgres, string, string] => s[0] !== null && s[1] !== null);
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

async function refund(taken: Array<[RateLimiterPostgres, string]>): Promise<void> {
  for (const [limiter, key] of taken) await limiter.reward(key);
}

function ignoreRejection(error: unknown): void {
  if (!(error instanceof RateLimiterRes)) throw error;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
