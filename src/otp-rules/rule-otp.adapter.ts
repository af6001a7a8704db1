import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { DataSource } from 'typeorm';
import type { RequestContext } from '../app/context';
import type { UserEntity } from '../auth/user.entity';
import { Role } from '../auth/roles';
import { ErrorCode, UserErrorException } from '../common/errors';
import { queryRows, type Queryable } from '../db/sql';
import type { OtpChannel, OtpCodeType, ResendMode } from '../otp/otp-request.entity';
import type { OtpService } from '../otp/otp.service';
import { maskEmail, maskMobile } from '../otp/recipients';
import { findModule } from '../records/modules';
import type { RecordEntity } from '../records/record.entity';
import { toRecordEntity } from '../records/record.service';
import type { OtpRuleEntity } from './otp-rule.entity';
import type { LiveOtp, RuleOtpCheck, RuleOtpGateway } from './rule-otp.gateway';

interface Recipient {
  channels: OtpChannel[];
  mobile: string | null;
  email: string | null;
}

/**
 * OTP rules on top of the OTP service: a rule OTP is an ordinary OTP request bound to the rule and the record, and
 * it counts for the rule only when it went to the recipient the rule names (the record's phone/email field, or the
 * acting user's email) — an OTP a caller bound to a rule but sent to a number of their own choosing never does.
 */
export class OtpServiceRuleGateway implements RuleOtpGateway {
  constructor(private readonly db: DataSource, private readonly otps: OtpService, private readonly defaultCountryCode: string) {}

  async liveOtp(ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): Promise<LiveOtp | null> {
    const recipient = this.recipient(ctx.user, rule, record, false);
    if (!recipient) return null;
    const [row] = await this.db.query(
      `SELECT id, mobile, email, expires_at FROM otp_requests
        WHERE rule_id = $1 AND record_id = $2 AND status = 'PENDING' AND expires_at > now() AND (mobile = $3 OR email = $4)
        ORDER BY created_at DESC LIMIT 1`,
      [rule.id, record.id, recipient.mobile, recipient.email],
    );
    return row ? toLive(row) : null;
  }

  /**
   * The "Send OTP" action. A live OTP is resent (the same code under SAME_CODE_IF_VALID, else it is canceled and a new
   * one sent); sends per rule and record are capped at 1 + `maxResendAttempts` per `resetResendAfterSeconds`.
   */
  async send(ctx: RequestContext, rule: OtpRuleEntity, recordId: string): Promise<LiveOtp> {
    const [row] = await this.db.query('SELECT * FROM records WHERE id = $1 AND deleted_at IS NULL', [recordId]);
    if (!row || row.module !== rule.module) throw UserErrorException.of(ErrorCode.NOT_FOUND, `No ${rule.module} record has this id.`, ['recordId']);
    const record = toRecordEntity(row);
    const recipient = this.recipient(ctx.user, rule, record, true)!;
    const [{ sends }] = await this.db.query(
      `SELECT coalesce(sum(send_count), 0)::int AS sends FROM otp_requests
        WHERE rule_id = $1 AND record_id = $2 AND source = $3 AND created_at > now() - make_interval(secs => $4)`,
      [rule.id, record.id, ruleSource(rule), rule.resetResendAfterSeconds],
    );
    if (sends > rule.maxResendAttempts) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `The OTP for rule ${rule.id} was already sent ${sends} times for this record; more can be sent ${rule.resetResendAfterSeconds} s after the first.`, ['recordId'], );
    }
    const live = await this.liveOtp(ctx, rule, record);
    if (live && rule.resendMode === 'SAME_CODE_IF_VALID') {
      // The request belongs to the rule, not to whoever sent it first: resend it as the system would.
      return toLive(await this.otps.resend(asSystem(ctx), live.otpRequestId));
    }
    if (live) await queryRows(this.db, `UPDATE otp_requests SET status = 'CANCELED', code_sealed = NULL, updated_at = now() WHERE id = $1 AND status = 'PENDING'`, [live.otpRequestId]);
    const request = await this.otps.sendValidated(ctx, {
      channels: recipient.channels,
      mobile: recipient.mobile,
      email: recipient.email,
      emailFromName: recipient.email ? 'Countersign' : null,
      emailSubject: recipient.email ? `Your code to update ${record.label}` : null,
      emailTemplateId: recipient.email ? rule.emailTemplateId ?? 'otp_email' : null,
      emailTemplateAttributes: {},
      source: ruleSource(rule),
      type: 'simple_otp',
      codeLength: rule.codeLength,
      codeType: rule.codeType as OtpCodeType,
      code: null,
      ruleId: rule.id,
      recordId: record.id,
      issuedBy: 'RULE',
      intendedFields: null,
      smsTemplateId: null,
      whatsappTemplateId: null,
      messageVariables: {},
    }, {
      validitySeconds: rule.validForSeconds,
      maxAttempts: rule.maxValidationAttempts,
      maxResends: rule.maxResendAttempts,
      resendMode: rule.resendMode as ResendMode,
    });
    return toLive(request);
  }

  async verify(tx: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity, code: string): Promise<RuleOtpCheck> {
    const recipient = this.recipient(ctx.user, rule, record, false);
    if (!recipient) return 'INVALID';
    const [latest] = await tx.query(
      `SELECT id FROM otp_requests WHERE rule_id = $1 AND record_id = $2 AND (mobile = $3 OR email = $4)
        ORDER BY (status = 'PENDING') DESC, created_at DESC LIMIT 1`,
      [rule.id, record.id, recipient.mobile, recipient.email],
    );
    if (!latest) return 'INVALID';
    const result = await this.otps.verifyWithin(tx, latest.id, code);
    if (result.verified) return 'VERIFIED';
    return result.reason === ErrorCode.OTP_EXPIRED ? 'EXPIRED' : 'INVALID';
  }

  /** Where the rule's OTP goes for this record; `strict` turns a missing or unusable value into a user error. */
  private recipient(user: UserEntity, rule: OtpRuleEntity, record: RecordEntity, strict: boolean): Recipient | null {
    if (!rule.recipientField) return { channels: ['EMAIL'], mobile: null, email: user.email.toLowerCase() };
    const field = findModule(rule.module)?.fields.find((f) => f.name === rule.recipientField);
    const label = field?.label ?? rule.recipientField;
    const value = record.fields[rule.recipientField];
    const fail = (message: string) => {
      if (strict) throw UserErrorException.of(ErrorCode.INVALID, message, ['recordId']);
      return null;
    };
    if (typeof value !== 'string' || !value.trim()) return fail(`The record has no ${label} to send the OTP to.`);
    if (field?.type === 'email') return { channels: ['EMAIL'], mobile: null, email: value.trim().toLowerCase() };
    const digits = value.replace(/[\s().-]/g, '');
    const phone = digits.startsWith('+') ? parsePhoneNumberFromString(digits) : parsePhoneNumberFromString(`+${this.defaultCountryCode}${digits.replace(/^0+/, '')}`);
    if (!phone?.isPossible()) return fail(`${label} "${value}" is not a phone number an OTP can be sent to.`);
    return { channels: (rule.channels as OtpChannel[]).filter((c) => c !== 'EMAIL'), mobile: phone.number, email: null };
  }
}

export function ruleSource(rule: { id: number }): string {
  return `otp_rule_${rule.id}`;
}

function asSystem(ctx: RequestContext): RequestContext {
  return { ...ctx, user: Object.assign(Object.create(Object.getPrototypeOf(ctx.user)), ctx.user, { role: Role.ADMIN }) };
}

function toLive(row: Record<string, any>): LiveOtp {
  return {
    otpRequestId: row.id,
    sentTo: [maskMobile(row.mobile), maskEmail(row.email)].filter((v): v is string => !!v),
    expiresAt: row.expiresAt ?? row.expires_at,
  };
}
