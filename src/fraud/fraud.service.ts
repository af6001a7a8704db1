import type { Logger } from 'pino';
import type { AppConfig } from '../core/config';
import type { RequestContext } from '../core/context';
import { ErrorCode, UserErrorException } from '../core/errors';
import type { Metrics } from '../core/metrics';
import type { Queryable } from '../db/sql';
import { OtpValidationException } from '../otp/otp.errors';
import type { OtpRequestEntity } from '../otp/otp-request.entity';
import type { ScreenedSend, ScreenWrite, SendScreen, Statement } from '../otp/otp.service';
import type { BlockReason, FraudPrefixBlockEntity } from './fraud.entity';
import { FraudSuspectedException } from './fraud.errors';
import { FraudRepository, type NewFraudEvent } from './fraud.repository';
import { FraudSettingsCache, type FraudSettings } from './fraud-settings.cache';
import { maskNumber, profileOf, typeWords, type NumberProfile } from './number-profile';

export type FraudConfig = Pick<AppConfig, 'FRAUD_ALLOWED_NUMBER_TYPES' | 'FRAUD_FAIL_POLICY' | 'FRAUD_PREFIX_WINDOW_SECONDS' | 'FRAUD_PREFIX_MIN_SENDS'
  | 'FRAUD_PREFIX_MIN_CONVERSION' | 'FRAUD_BLOCK_HOURS' | 'FRAUD_BLOCK_ESCALATION_DAYS'>;

/** Seconds a send refused because a signal could not be computed is told to wait. */
const FAIL_CLOSED_RETRY_SECONDS = 60;

/**
 * The fraud guard in the send path (registered with the otp feature as its send screen): screens each number by type,
 * country and safe list, refuses sends to blocked prefixes and blocks prefixes whose sends do not convert; counts every
 * send and verification, so the counters, the blocked-sends list and the conversion summary are one log in Postgres.
 */
export class FraudGuard implements SendScreen {
  constructor(
    private readonly repository: FraudRepository,
    private readonly settings: FraudSettingsCache,
    private readonly config: FraudConfig,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    metrics.conversionSource = async () => (await repository.conversionByCountry(config.FRAUD_PREFIX_WINDOW_SECONDS))
      .map((r) => ({ country: r.country, ratio: r.verified / r.sends }));
  }

  async screen(ctx: RequestContext, send: ScreenedSend): Promise<void> {
    const screened = await this.screenWithoutDatabase(ctx, send);
    if (screened) await this.screenPrefix(ctx, send, screened.number, screened.settings);
  }

  /**
   * The pipelined send's screen: the number, country and safe-list checks here, and the prefix's state as a statement
   * (FraudRepository.prefixCheckStatement) that fails the send's message when the prefix is blocked or due to be, so
   * the sender asks {@link screen}, which blocks and refuses, for a closer look.
   */
  async screenStatement(ctx: RequestContext, send: ScreenedSend): Promise<Statement | null> {
    const screened = await this.screenWithoutDatabase(ctx, send);
    if (!screened) return null;
    return FraudRepository.prefixCheckStatement(screened.number.prefix, this.config.FRAUD_PREFIX_WINDOW_SECONDS, this.config.FRAUD_PREFIX_MIN_SENDS, this.config.FRAUD_PREFIX_MIN_CONVERSION);
  }

  /** The checks that need no database; throws to refuse; null when the prefix need not be looked at (email only, safe list). */
  private async screenWithoutDatabase(ctx: RequestContext, send: ScreenedSend): Promise<{ number: NumberProfile; settings: FraudSettings } | null> {
    if (!send.mobile) return null; // email only: no number to pump
    const number = profileOf(send.mobile);
    const settings = await this.settings.current();
    if (settings.isSafe(number.e164)) return null;
    if (!this.config.FRAUD_ALLOWED_NUMBER_TYPES.includes(number.type)) {
      await this.refuse(ctx, send, number, 'NUMBER_TYPE', `number type ${number.type}`);
      throw new OtpValidationException([{ field: ['mobileNo'], code: ErrorCode.NUMBER_NOT_ALLOWED,
        message: `The mobile no field must be a mobile number; OTPs are not sent to ${typeWords(number.type)} numbers.` }]);
    }
    if (settings.geoAction(number.country) === 'BLOCK') {
      await this.refuse(ctx, send, number, 'GEO_BLOCKED', `country ${number.country ?? 'unknown'} is blocked`);
      throw new OtpValidationException([{ field: ['countryCode'], code: ErrorCode.NUMBER_NOT_ALLOWED,
        message: `The country code field names a country OTPs are not sent to (${number.country ?? 'unknown'}).` }]);
    }
    return { number, settings };
  }

  async sent(tx: Queryable, ctx: RequestContext, send: ScreenedSend, otpRequestId: string): Promise<void> {
    const { event, committed } = await this.sentEvent(ctx, send, otpRequestId);
    // in the send's transaction: a send that commits is counted (if this cannot be written, neither is the send)
    await this.repository.with(tx).insertEvent(event);
    committed();
  }

  async sentStatement(ctx: RequestContext, send: ScreenedSend, otpRequestId: string): Promise<ScreenWrite> {
    const { event, committed } = await this.sentEvent(ctx, send, otpRequestId);
    return { statement: FraudRepository.insertEventStatement(event), committed };
  }

  /** The SENT event of a send, and what to do once it is written (a send to a monitored country is logged). */
  private async sentEvent(ctx: RequestContext, send: ScreenedSend, otpRequestId: string): Promise<{ event: NewFraudEvent; committed: () => void }> {
    const settings = await this.settings.current();
    const number = send.mobile ? profileOf(send.mobile) : null;
    const monitored = number !== null && settings.geoAction(number.country) === 'MONITOR';
    const event: NewFraudEvent = { ...this.eventOf(ctx, send, number), kind: 'SENT', otpRequestId, monitored };
    const committed = () => {
      if (monitored) ctx.log.warn({ otpRequestId, country: number!.country, prefix: number!.prefix }, 'OTP sent to a monitored country');
    };
    return { event, committed };
  }

  async verified(q: Queryable | null, request: OtpRequestEntity): Promise<void> {
    const event = verifiedEvent(request);
    if (q) await this.insideSavepoint(q, () => this.repository.with(q).insertEvent(event));
    else await this.repository.insertEvent(event).catch((error) => this.log.warn({ err: error, otpRequestId: request.id }, 'could not count a verification'));
  }

  verifiedStatement(request: OtpRequestEntity, from: string): Statement {
    return FraudRepository.insertEventStatement(verifiedEvent(request), from);
  }

  /** Refuses sends to a blocked prefix, and blocks a prefix whose sends in the window convert below the threshold. */
  private async screenPrefix(ctx: RequestContext, send: ScreenedSend, number: NumberProfile, settings: FraudSettings): Promise<void> {
    let block: FraudPrefixBlockEntity | null;
    try {
      const state = await this.repository.prefixState(number.prefix, this.config.FRAUD_PREFIX_WINDOW_SECONDS);
      block = state.block;
      if (!block) {
        const { window } = state;
        const threshold = this.config.FRAUD_PREFIX_MIN_CONVERSION;
        if (window.sends >= this.config.FRAUD_PREFIX_MIN_SENDS && window.verified < window.sends * threshold) {
          const reason = `${window.verified} of ${window.sends} sends verified in ${this.config.FRAUD_PREFIX_WINDOW_SECONDS} s, below ${Math.round(threshold * 100)} %`;
          block = await this.repository.blockPrefix(number.prefix, number.country, window, reason, this.config.FRAUD_BLOCK_HOURS, this.config.FRAUD_BLOCK_ESCALATION_DAYS);
          ctx.log.warn({ prefix: number.prefix, country: number.country, level: block.level, expiresAt: block.expiresAt, sends: window.sends, verified: window.verified }, 'number prefix blocked: suspected SMS pumping');
        }
      }
    } catch (error) {
      if (error instanceof UserErrorException) throw error;
      await this.failSafe(ctx, send, number, settings, error);
      return;
    }
    if (!block) return;
    await this.refuse(ctx, send, number, 'PREFIX_BLOCKED', `prefix blocked until ${block.expiresAt.toISOString()}: ${block.reason}`);
    const wait = Math.max(1, Math.ceil((block.expiresAt.getTime() - Date.now()) / 1000));
    throw new FraudSuspectedException(wait, 'OTPs to this number range are paused: recent codes sent to it were not used (suspected SMS pumping).');
  }

  /** A signal could not be computed: the configured policy decides (CLOSED_UNLESS_ALLOWED: open for allow-listed countries only). */
  private async failSafe(ctx: RequestContext, send: ScreenedSend, number: NumberProfile, settings: FraudSettings, error: unknown): Promise<void> {
    const policy = this.config.FRAUD_FAIL_POLICY;
    const open = policy === 'OPEN' || (policy === 'CLOSED_UNLESS_ALLOWED' && settings.explicitlyAllowed(number.country));
    ctx.log.error({ err: error, prefix: number.prefix, country: number.country, policy, open }, 'fraud guard could not check a number');
    if (open) return;
    await this.refuse(ctx, send, number, 'FAIL_CLOSED', 'the fraud guard could not check this number');
    throw new FraudSuspectedException(FAIL_CLOSED_RETRY_SECONDS, 'This number could not be checked for fraud just now.');
  }

  /** Counts and logs a refused send (best effort: the refusal stands even if the log cannot be written). */
  private async refuse(ctx: RequestContext, send: ScreenedSend, number: NumberProfile, reason: BlockReason, detail: string): Promise<void> {
    this.metrics.otpBlocked.inc({ reason });
    ctx.log.warn({ reason, prefix: number.prefix, country: number.country, numberType: number.type, source: send.source }, 'OTP send refused by the fraud guard');
    await this.repository.insertEvent({ ...this.eventOf(ctx, send, number), kind: 'BLOCKED', reason, detail })
      .catch((error) => ctx.log.warn({ err: error }, 'could not log a refused send'));
  }

  private eventOf(ctx: RequestContext, send: ScreenedSend, number: NumberProfile | null): NewFraudEvent {
    return {
      kind: 'SENT', prefix: number?.prefix ?? null, country: number?.country ?? null, numberType: number?.type ?? null,
      maskedNumber: number ? maskNumber(number.e164) : null, channels: send.channels, source: send.source, ruleId: send.ruleId,
      apiKeyId: ctx.apiKeyId, userId: ctx.user.id,
    };
  }

  /** Runs `work` in the caller's transaction (a guarded save) without letting its failure abort that transaction. */
  private async insideSavepoint(tx: Queryable, work: () => Promise<void>): Promise<void> {
    await tx.query('SAVEPOINT fraud_guard');
    try {
      await work();
      await tx.query('RELEASE SAVEPOINT fraud_guard');
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT fraud_guard');
      this.log.warn({ err: error }, 'fraud guard could not count a send or verification');
    }
  }
}

/** The VERIFIED count of a request (its number's prefix and country when a mobile channel went to it). */
function verifiedEvent(request: OtpRequestEntity): NewFraudEvent {
  const number = request.mobile && request.channels.some((c) => c !== 'EMAIL') ? profileOf(request.mobile) : null;
  return {
    kind: 'VERIFIED', prefix: number?.prefix ?? null, country: number?.country ?? null, numberType: number?.type ?? null,
    maskedNumber: number ? maskNumber(number.e164) : null, channels: request.channels, source: request.source, ruleId: request.ruleId,
    otpRequestId: request.id, apiKeyId: request.apiKeyId, userId: request.userId,
  };
}
