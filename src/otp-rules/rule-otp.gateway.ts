import type { Queryable } from '../db/sql';
import type { RequestContext } from '../app/context';
import type { RecordEntity } from '../records/record.entity';
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
  /** The live OTP that counts for this rule and record (issued by the rule's send path), read through `q`. */
  liveOtp(q: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): Promise<LiveOtp | null>;
  send(ctx: RequestContext, rule: OtpRuleEntity, recordId: string): Promise<LiveOtp>;
  /** Checks the code against the rule's OTP for this record; when right, marks it used inside `tx`. */
  verify(tx: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity, code: string): Promise<RuleOtpCheck>;
}
