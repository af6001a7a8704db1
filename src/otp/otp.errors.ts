import type { RequestContext } from '../core/context';
import { WRITER_ROLES } from '../auth/roles';
import { ErrorCode, Forbidden, UserError, UserErrorException } from '../core/errors';
import type { FieldError } from './otp.validation';

/** Every failing input field of a send or verify; GraphQL shows them as userErrors under `input`, REST as a 422 `errors` map. */
export class OtpValidationException extends UserErrorException {
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((e) => new UserError(e.code, e.message, ['input', ...e.field])));
  }
}

/**
 * The caller's role may not use OTPs (READONLY). Not a business outcome but a refusal of the caller: GraphQL answers it
 * as a top-level FORBIDDEN error, REST as 403.
 */
export class OtpForbiddenException extends Forbidden {
  constructor() {
    super('This user may not send or verify OTPs (read-only role).');
  }
}

/** The one role check behind both doors (GraphQL and REST): sending, verifying, resending and canceling OTPs. */
export function assertMaySendOtp(ctx: RequestContext): void {
  if (!WRITER_ROLES.includes(ctx.user.role)) throw new OtpForbiddenException();
}

/** Why a verification failed. */
export type VerifyFailureReason = ErrorCode.OTP_INVALID | ErrorCode.OTP_EXPIRED | ErrorCode.OTP_LOCKED;
