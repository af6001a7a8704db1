import type { RequestContext } from '../core/context';
import type { UserEntity } from '../auth/user.entity';
import { ErrorCode, UserErrorException } from '../core/errors';
import type { Queryable } from '../db/sql';
import type { OtpChannel, OtpRequestEntity, ResendMode } from '../otp/otp-request.entity';
import type { OtpService, RuleOtpBinding } from '../otp/otp.service';
import { maskEmail, maskMobile, phoneToE164 } from '../otp/recipients';
import { findModule } from '../records/modules';
import type { RecordEntity, RecordFields } from '../records/record.entity';
import { describeChange, intendedTargets, reachesTargets } from './rule-purpose';
import { ruleMessageVariables, ruleTemplateIds } from './rule-templates';
import type { OtpRuleEntity } from './otp-rule.entity';
import type { LiveOtp, RuleOtpCheck, RuleOtpGateway, SentRuleOtp } from './rule-otp.gateway';

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
  constructor(
    private readonly otps: OtpService,
    private readonly defaultCountryCode: string,
    /** Display name of the sender on rule emails (SMTP_FROM_NAME). */
    private readonly fromName: string,
  ) {}

  async liveOtp(q: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): Promise<RuleLiveOtp | null> {
    const binding = this.binding(ctx, rule, record);
    const live = binding && await this.otps.liveRuleOtp(q, binding);
    return live ? toLive(live) : null;
  }

  async latestOtp(q: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): Promise<RuleLiveOtp | null> {
    const binding = this.binding(ctx, rule, record);
    const latest = binding && await this.otps.latestRuleOtp(q, binding);
    return latest ? toLive(latest) : null;
  }

  /**
   * The "Send OTP" action; sends per rule and record are capped at 1 + `maxResendAttempts` per `resetResendAfterSeconds`.
   * The OTP service keeps one live OTP per rule and record: a live one is sent again (SAME_CODE_IF_VALID, same
   * message) or superseded, in the transaction that creates the new one and only once every limit accepted it, so a
   * refused send leaves the live code valid.
   */
  async send(ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity, after: RecordFields | null): Promise<SentRuleOtp> {
    const recipient = this.recipient(ctx.user, rule, record, true)!;
    // Counted inside the send's transaction, under its (rule, record) lock: parallel sends see each other's sends.
    const capSends = async (tx: Queryable) => {
      const sends = await this.otps.ruleSendsSince(tx, rule.id, record.id, ruleSource(rule), rule.resetResendAfterSeconds);
      if (sends > rule.maxResendAttempts) {
        throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `The OTP for rule ${rule.id} was already sent ${sends} times for this record; more can be sent ${rule.resetResendAfterSeconds} s after the first.`, ['recordId']);
      }
    };
    const intendedFields = after ? intendedTargets(rule, after) : null;
    const module = findModule(rule.module)!;
    const templates = ruleTemplateIds(rule);
    const sendsEmail = recipient.channels.includes('EMAIL');
    const request = await this.otps.sendValidated(ctx, {
      channels: recipient.channels,
      workflow: null, // rule OTPs go on all their channels at once (channel fallback is sendOtp's)
      mobile: recipient.mobile,
      email: recipient.email,
      emailFromName: sendsEmail ? this.fromName : null,
      emailSubject: null, // the template's subject
      emailTemplateId: sendsEmail ? templates.EMAIL : null,
      emailTemplateAttributes: {},
      source: ruleSource(rule),
      type: 'simple_otp',
      codeLength: rule.codeLength,
      codeType: rule.codeType,
      code: null,
      ruleId: rule.id,
      recordId: record.id,
      issuedBy: 'RULE',
      intendedFields,
      smsTemplateId: recipient.channels.includes('SMS') ? templates.SMS : null,
      whatsappTemplateId: recipient.channels.includes('WHATSAPP') ? templates.WHATSAPP : null,
      messageVariables: ruleMessageVariables(module, rule, record, describeChange(module, rule, record.fields, intendedFields)),
    }, {
      validitySeconds: rule.validForSeconds,
      maxAttempts: rule.maxValidationAttempts,
      maxResends: rule.maxResendAttempts,
      resendMode: rule.resendMode as ResendMode,
      beforeIssue: capSends,
    });
    return { ...toLive(request), request };
  }

  async verify(tx: Queryable, ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity, after: RecordFields, code: string): Promise<RuleOtpCheck> {
    const latest = await this.latestOtp(tx, ctx, rule, record);
    if (!latest) return { result: 'INVALID' };
    // Checked before the code: such a save cannot use this OTP whatever the code, so the code is never looked at.
    if (latest.pending && latest.intendedFields && !reachesTargets(latest.intendedFields, after)) return { result: 'OTHER_CHANGE', intendedFields: latest.intendedFields };
    const result = await this.otps.checkRuleCode(tx, latest.otpRequestId, code);
    if (result.verified) return { result: 'VERIFIED' };
    return { result: result.reason === ErrorCode.OTP_EXPIRED ? 'EXPIRED' : 'INVALID' };
  }

  /**
   * Which OTP requests count for a rule and record: issued by the rule's own send path (never `sendOtp`), with a
   * server-generated code, to the recipient the rule names for this record — and, when that is the acting user's
   * email, sent by that same user. Null when the record has no usable recipient (then none counts).
   */
  private binding(ctx: RequestContext, rule: OtpRuleEntity, record: RecordEntity): RuleOtpBinding | null {
    const recipient = this.recipient(ctx.user, rule, record, false);
    if (!recipient) return null;
    return { ruleId: rule.id, recordId: record.id, mobile: recipient.mobile, email: recipient.email, sentBy: rule.recipientField ? null : ctx.user.id };
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
    const mobile = phoneToE164(value, this.defaultCountryCode);
    if (!mobile) return fail(`${label} "${value}" is not a phone number an OTP can be sent to.`);
    return { channels: rule.channels.filter((c) => c !== 'EMAIL'), mobile, email: null };
  }
}

export function ruleSource(rule: { id: number }): string {
  return `otp_rule_${rule.id}`;
}

type RuleLiveOtp = LiveOtp & { pending: boolean };

function toLive(request: OtpRequestEntity): RuleLiveOtp {
  return {
    otpRequestId: request.id,
    sentTo: [maskMobile(request.mobile), maskEmail(request.email)].filter((v): v is string => !!v),
    expiresAt: request.expiresAt,
    maxAttempts: request.maxAttempts,
    intendedFields: request.intendedFields ?? null,
    pending: request.status === 'PENDING',
  };
}


