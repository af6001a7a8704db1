import type { Queryable } from '../db/sql';
import type { RequestContext } from '../app/context';
import type { OtpRuleEntity } from './otp-rule.entity';

export interface LiveOtp {
  otpRequestId: string;
  /** Masked recipients, e.g. ******3210, a***@example.com. */
  sentTo: string[];
  expiresAt: Date;
}

export type RuleOtpCheck = 'VERIFIED' | 'INVALID' | 'EXPIRED';

/** What OTP rules need from the OTP feature: send a code bound to a rule and record, find it, check it. */
export interface RuleOtpGateway {
  liveOtp(rule: OtpRuleEntity, recordId: string): Promise<LiveOtp | null>;
  send(ctx: RequestContext, rule: OtpRuleEntity, recordId: string): Promise<LiveOtp>;
  /** Checks the code against the live OTP of this rule and record; when right, marks it used inside `tx`. */
  verify(tx: Queryable, rule: OtpRuleEntity, recordId: string, code: string): Promise<RuleOtpCheck>;
}
