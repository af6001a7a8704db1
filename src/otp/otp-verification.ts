import { ErrorCode } from '../common/errors';
import type { CodeHasher } from './codes';
import type { VerifyFailureReason } from './otp.errors';
import type { OtpRequestEntity } from './otp-request.entity';
import type { OtpRequestRepository } from './otp-request.repository';

export interface VerifyResult {
  verified: boolean;
  /** Set only when verified, so a failed guess never reveals whether a request exists. */
  otpRequest: OtpRequestEntity | null;
  reason: VerifyFailureReason | null;
  /** With OTP_INVALID: wrong codes still allowed before the request locks. */
  attemptsLeft: number | null;
  message: string;
}

/**
 * Checks one code against one OTP request. The attempt counter and the status only ever move through conditional
 * UPDATEs, so parallel guesses (and GraphQL aliases) are each counted exactly once and a code verifies exactly once.
 */
export class OtpVerifier {
  /**
   * `counted` takes the statements made outside the caller's transaction (counting wrong codes): a pool of its own, so
   * that many saves holding pool connections in their transactions can never starve it.
   */
  constructor(private readonly counted: OtpRequestRepository, private readonly hasher: CodeHasher) {}

  /** A right code is consumed through `consumeOn` (the caller's transaction, or the pool); wrong ones are counted on the pool. */
  async check(consumeOn: OtpRequestRepository, request: OtpRequestEntity, code: string): Promise<VerifyResult> {
    if (request.status !== 'PENDING') return this.notPending(request);
    if (this.hasher.matches(request.id, code, request.codeHash)) {
      const verified = await consumeOn.markVerified(request.id, request.codeHash);
      if (verified) return { verified: true, otpRequest: verified, reason: null, attemptsLeft: null, message: 'OTP verified.' };
      return this.notPending((await this.counted.findById(request.id))!);
    }
    const counted = await this.counted.countWrongCode(request.id);
    if (counted) return invalid(counted.maxAttempts - counted.attempts);
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

export function failure(reason: VerifyFailureReason, message: string, attemptsLeft: number | null = null): VerifyResult {
  return { verified: false, otpRequest: null, reason, attemptsLeft, message };
}

export function invalid(attemptsLeft: number | null): VerifyResult {
  const left = attemptsLeft === null ? '' : ` ${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left.`;
  return failure(ErrorCode.OTP_INVALID, `The code is not valid.${left}`, attemptsLeft);
}

export function locked(): VerifyResult {
  return failure(ErrorCode.OTP_LOCKED, 'Too many wrong codes: this OTP is locked; request a new one.', 0);
}
