import { ErrorCode } from '../common/errors';
import { queryRows, type Queryable } from '../db/sql';
import type { CodeHasher } from './codes';
import type { VerifyFailureReason } from './otp.errors';
import { toOtpRequestEntity, type OtpRequestEntity } from './otp-request.entity';

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
   * `db` takes the statements made outside the caller's transaction (counting wrong codes): a pool of its own, so
   * that many saves holding pool connections in their transactions can never starve it.
   */
  constructor(private readonly db: Queryable, private readonly hasher: CodeHasher) {}

  /** A right code is consumed through `successDb` (the caller's transaction, or the pool); wrong ones are counted on the pool. */
  async check(successDb: Queryable, row: Record<string, any>, code: string): Promise<VerifyResult> {
    const state = toOtpRequestEntity(row);
    if (state.status !== 'PENDING') return this.notPending(row);
    if (this.hasher.matches(row.id, code, row.code_hash)) {
      const [verified] = await queryRows(successDb,
        `UPDATE otp_requests SET status = 'VERIFIED', verified_at = now(), code_sealed = NULL, updated_at = now()
          WHERE id = $1 AND status = 'PENDING' AND expires_at > now() AND code_hash = $2 RETURNING *`,
        [row.id, row.code_hash],
      );
      if (verified) return { verified: true, otpRequest: toOtpRequestEntity(verified), reason: null, attemptsLeft: null, message: 'OTP verified.' };
      return this.notPending(await this.reload(row.id));
    }
    const [counted] = await queryRows(this.db,
      `UPDATE otp_requests
          SET attempts = attempts + 1, updated_at = now(),
              status = CASE WHEN attempts + 1 >= max_attempts THEN 'MAX_ATTEMPTS_REACHED' ELSE status END,
              code_sealed = CASE WHEN attempts + 1 >= max_attempts THEN NULL ELSE code_sealed END
        WHERE id = $1 AND status = 'PENDING' AND expires_at > now() RETURNING attempts, max_attempts`,
      [row.id],
    );
    if (counted) return invalid(counted.max_attempts - counted.attempts);
    return this.notPending(await this.reload(row.id));
  }

  private async notPending(row: Record<string, any>): Promise<VerifyResult> {
    const status = toOtpRequestEntity(row).status;
    if (status === 'EXPIRED') {
      await this.db.query(`UPDATE otp_requests SET status = 'EXPIRED', code_sealed = NULL, updated_at = now() WHERE id = $1 AND status = 'PENDING' AND expires_at <= now()`, [row.id]);
      return failure(ErrorCode.OTP_EXPIRED, 'This OTP has expired; request a new one.');
    }
    if (status === 'MAX_ATTEMPTS_REACHED') return locked();
    if (status === 'CANCELED') return failure(ErrorCode.OTP_EXPIRED, 'This OTP was canceled; request a new one.');
    if (status === 'VERIFIED') return failure(ErrorCode.OTP_INVALID, 'This OTP has already been used.', 0);
    return failure(ErrorCode.OTP_INVALID, 'The code is not valid.', null);
  }

  private async reload(id: string): Promise<Record<string, any>> {
    const [row] = await this.db.query('SELECT * FROM otp_requests WHERE id = $1', [id]);
    return row;
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
