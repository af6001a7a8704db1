import type { Metrics } from '../core/metrics';
import { ErrorCode } from '../core/errors';
import type { DataSource } from 'typeorm';
import type { Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { otpVerified } from './otp.events';
import type { CodeHasher } from './codes';
import { RateLimitedException, type OtpLimits } from './otp-limits';
import type { VerifyFailureReason } from './otp.errors';
import type { OtpRequestEntity } from './otp-request.entity';
import type { OtpRequestRepository, SentBy } from './otp-request.repository';
import type { VerifyOtpCommand } from './otp.validation';
import type { SendScreen } from './send-screen';

export interface VerifyResult {
  verified: boolean;
  /** Set only when verified, so a failed guess never reveals whether a request exists. */
  otpRequest: OtpRequestEntity | null;
  reason: VerifyFailureReason | null;
  /** With OTP_INVALID: wrong codes still allowed before the request locks. */
  attemptsLeft: number | null;
  message: string;
}

export interface OtpVerifierDeps {
  hasher: CodeHasher;
  limits: OtpLimits;
  metrics: Metrics;
  events: EventPublisher;
  /** Where a right code is consumed together with its `otp.verified` event. */
  db: Pick<DataSource, 'transaction'>;
  /** Told of each verified code (the fraud guard's conversion counts). */
  screens: { current: SendScreen };
}

/**
 * Checks codes. The attempt counter and the status only ever move through conditional UPDATEs, so parallel guesses
 * (and GraphQL aliases) are each counted exactly once and a code verifies exactly once.
 *
 * Two paths, one counter each: `verify` (sendOtp's OTPs, through verifyOtp or REST) counts wrong codes on the request;
 * `checkRuleCode` (a rule's OTP, inside the guarded save) leaves counting to the rule, whose count per rule and record is
 * that OTP's only limit. Neither path accepts the other's OTPs.
 */
export class OtpVerifier {
  /**
   * `counted` is the repository on the counters pool, for the statements made outside a caller's transaction (counting
   * wrong codes): a pool of its own, so that many saves holding pool connections can never starve it.
   */
  constructor(private readonly requests: OtpRequestRepository, private readonly counted: OtpRequestRepository, private readonly deps: OtpVerifierDeps) {}

  /**
   * The public door: by id, or by recipient and source (only the newest request then answers). An unknown request
   * gets the answers a real one would give; wrong codes also count against the recipient's daily limit.
   */
  async verify(command: VerifyOtpCommand, sentBy: SentBy): Promise<VerifyResult> {
    const result = await this.verifyCommand(command, sentBy);
    this.deps.metrics.otpVerify.inc({ result: result.verified ? 'VERIFIED' : result.reason! });
    return result;
  }

  /**
   * A rule OTP's code, checked inside the caller's transaction (the guarded save): a right code is consumed only if
   * `tx` commits. A wrong one is not counted here: the rule counts it (one count per rule and record, which locks the
   * rule and kills the OTP at its limit). Only RULE-issued requests are checked.
   */
  async checkRuleCode(tx: Queryable, otpRequestId: string, code: string): Promise<VerifyResult> {
    const requests = this.requests.with(tx);
    const request = await requests.findById(otpRequestId);
    if (!request || request.issuedBy !== 'RULE') return invalid(null);
    let result: VerifyResult;
    if (request.status !== 'PENDING') result = await this.notPending(request);
    else if (!this.deps.hasher.matches(request.id, code, request.codeHash)) result = invalid(null);
    else result = await this.consume(tx, request);
    this.deps.metrics.otpVerify.inc({ result: result.verified ? 'VERIFIED' : result.reason! });
    return result;
  }

  private async verifyCommand(command: VerifyOtpCommand, sentBy: SentBy): Promise<VerifyResult> {
    let request: OtpRequestEntity | null;
    let recipients: string[];
    let phantomKey: string;
    if (command.otpRequestId !== null) {
      const found = await this.requests.findVisible(command.otpRequestId, sentBy);
      request = found?.issuedBy === 'API' ? found : null; // a rule OTP is used only by the save it guards
      recipients = request ? [request.mobile, request.email].filter((r): r is string => !!r) : [];
      phantomKey = `id:${command.otpRequestId}`;
    } else {
      recipients = [command.mobile, command.email].filter((r): r is string => !!r);
      request = await this.requests.findNewestSentTo(command.mobile, command.email, command.source, sentBy);
      phantomKey = `${recipients.join('|')}:${command.source}`;
    }
    if (request?.status === 'PENDING' && this.deps.hasher.matches(request.id, command.code, request.codeHash)) {
      // a right code takes no point from the verify budget: consumed in one statement unless a budget is spent
      // with its otp.verified and the fraud guard's conversion count (test recipients are never screened), in one statement
      const counted = request.testRecipient ? null : this.deps.screens.current.verifiedStatement(request, 'verified');
      const verified = await this.requests.markVerifiedWithinBudget(request, this.deps.limits.verifyBudget(recipients), this.deps.events, counted);
      if (verified) {
        return { verified: true, otpRequest: verified, reason: null, attemptsLeft: null, message: 'OTP verified.' };
      }
    }
    try {
      await this.deps.limits.reserveVerifyFailure(recipients);
    } catch (error) {
      if (error instanceof RateLimitedException) this.deps.metrics.otpVerify.inc({ result: 'RATE_LIMITED' });
      throw error;
    }
    if (!request) {
      const left = await this.deps.limits.phantomAttempt(phantomKey);
      return left < 0 ? locked() : invalid(left);
    }
    let result: VerifyResult;
    try {
      result = await this.check(request, command.code);
    } catch (error) {
      await this.deps.limits.refundVerifyFailure(recipients);
      throw error;
    }
    if (result.verified || result.reason !== ErrorCode.OTP_INVALID) await this.deps.limits.refundVerifyFailure(recipients);
    return result;
  }

  /** A right code is consumed; a wrong one is counted on the request (on the counters pool). */
  private async check(request: OtpRequestEntity, code: string): Promise<VerifyResult> {
    if (request.status !== 'PENDING') return this.notPending(request);
    if (this.deps.hasher.matches(request.id, code, request.codeHash)) return this.deps.db.transaction((tx) => this.consume(tx, request));
    const counted = await this.counted.countWrongCode(request.id, this.deps.events); // one statement: the count and its otp.failed_attempt
    if (counted) return invalid(counted.maxAttempts - counted.attempts);
    return this.notPending((await this.counted.findById(request.id))!);
  }

  /** Marks a right code used inside `tx` (the caller's transaction, or one of its own), with its `otp.verified` event. */
  private async consume(tx: Queryable, request: OtpRequestEntity): Promise<VerifyResult> {
    const verified = await this.requests.with(tx).markVerified(request.id, request.codeHash);
    if (verified) await this.deps.events.publish(tx, otpVerified(verified));
    if (verified && !verified.testRecipient) await this.deps.screens.current.verified(tx, verified); // test recipients are never screened
    if (verified) return { verified: true, otpRequest: verified, reason: null, attemptsLeft: null, message: 'OTP verified.' };
    return this.notPending((await this.counted.findById(request.id))!);
  }

  private async notPending(request: OtpRequestEntity): Promise<VerifyResult> {
    const status = request.status;
    if (status === 'EXPIRED') {
      await this.counted.settleExpired(request.id);
      return failure(ErrorCode.OTP_EXPIRED, 'This OTP has expired; request a new one.');
    }
    if (status === 'MAX_ATTEMPTS_REACHED') return locked();
    if (status === 'CANCELED') return failure(ErrorCode.OTP_EXPIRED, 'This OTP was canceled; request a new one.');
    if (status === 'VERIFIED') return failure(ErrorCode.OTP_INVALID, 'This OTP has already been used.', 0);
    return failure(ErrorCode.OTP_INVALID, 'The code is not valid.', null);
  }
}

function failure(reason: VerifyFailureReason, message: string, attemptsLeft: number | null = null): VerifyResult {
  return { verified: false, otpRequest: null, reason, attemptsLeft, message };
}

function invalid(attemptsLeft: number | null): VerifyResult {
  const left = attemptsLeft === null ? '' : ` ${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left.`;
  return failure(ErrorCode.OTP_INVALID, `The code is not valid.${left}`, attemptsLeft);
}

function locked(): VerifyResult {
  return failure(ErrorCode.OTP_LOCKED, 'Too many wrong codes: this OTP is locked; request a new one.', 0);
}
