import { ErrorCode, UserError, UserErrorException } from '../common/errors';
import type { FieldError } from './otp.validation';

/** Every failing input field of a send or verify; GraphQL shows them as userErrors, REST as a 422 `errors` map. */
export class OtpValidationException extends UserErrorException {
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((e) => new UserError(e.code, e.message, ['input', ...graphqlPath(e.key)])));
  }
}

/** `otp_code_length` → `otpCodeLength`; `channel` → `channels`; `email_template_attributes.name` → [`emailTemplateAttributes`, `name`]. */
function graphqlPath(key: string): string[] {
  const [head, ...rest] = key.split('.');
  const camel = head === 'channel' ? 'channels' : head.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return [camel, ...rest];
}

/** Why a verification failed (SPEC §4.2). */
export type VerifyFailureReason = ErrorCode.OTP_INVALID | ErrorCode.OTP_EXPIRED | ErrorCode.OTP_LOCKED;
