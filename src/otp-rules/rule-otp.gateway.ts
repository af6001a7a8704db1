import type { Queryable } from '../db/sql';
import type { OtpRequestEntity } from '../otp/otp-request.entity';
import type { RequestContext } from '../core/context';
import type { RecordEntity, RecordFields } from '../records/record.entity';
import type { OtpRuleEntity } from './otp-rule.entity';

export interface LiveOtp {
  otpRequestId: string;
  /** Masked recipients, e.g. ******3210, a***@example.com. */
  sentTo: string[];
  expiresAt: Date;
  /** The rule's `maxValidationAttempts` as it was when the OTP was sent (frozen on the OTP). */
  maxAttempts: number;
  /** Purpose binding: the target values of the rule's condition fields, when the send knew the change. */
  intendedFields: Record<string, unknown> | null;
}

/** A rule OTP just sent (or sent again), with its request. */
export interface SentRuleOtp extends LiveOtp {
  request: OtpRequestEntity;
}

export type RuleOtpCheck =
  | { result: 'VERIFIED' | 'INVALID' | 'EXPIRED' }
  /** The OTP was sent for another change: the code was not looked at, no attempt counted, the OTP stays usable. */
  | { result: 'OTHER_CHANGE'; intendedFields: Record<string, unknown> };

/** What OTP rules need from the OTP feature: send a code bound to a rule and record, find it, check it. */
export interface RuleOtpGateway {
  /** The live OTP that counts for this rule and record (issued by the rule's send path), read through `q`. */
  liveOtp(q: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): Promise<LiveOtp | null>;
  /** The newest OTP issued for this rule and record, whatever its state (its frozen options still apply to it). */
  latestOtp(q: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): Promise<LiveOtp | null>;
  /** Sends the rule's OTP for `record`; `after` (the record's fields after the intended save) binds it to that change. */
  send(ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity, after: RecordFields | null): Promise<SentRuleOtp>;
  /** Checks the code against the rule's OTP for this record and a save reaching `after`; when right, marks it used inside `tx`. */
  verify(tx: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity, after: RecordFields, code: string): Promise<RuleOtpCheck>;
}
