import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from '../app/config';
import type { RequestContext } from '../app/context';
import type { Metrics } from '../app/metrics';
import { Role } from '../auth/roles';
import { ErrorCode, UserErrorException } from '../common/errors';
import { isUuid } from '../common/ids';
import type { PageSource } from '../common/pagination';
import type { Queryable } from '../db/sql';
import type { CodeHasher } from './codes';
import type { DeliveryQueue } from './delivery/delivery-queue';
import type { OtpLimits } from './otp-limits';
import type { OtpChannel, OtpRequestEntity } from './otp-request.entity';
import { OtpRequestRepository, type OtpRequestFilter, type RuleOtpBinding, type SentBy } from './otp-request.repository';
import { OtpSender, type SendOptions } from './otp-sender';
import { OtpVerifier, type VerifyResult } from './otp-verifier';
import { OtpValidationException } from './otp.errors';
import { validateSendOtp, validateVerifyOtp, type FieldError, type SendOtpCommand } from './otp.validation';
import { INJECTED_VARIABLES, templateProblem, templateVariables } from './templates/render';

export type { VerifyResult } from './otp-verifier';
export type { OtpPolicy, SendOptions } from './otp-sender';
export type { OtpRequestFilter, RuleOtpBinding } from './otp-request.repository';

/** A reference a send may carry that only a feature above `otp` can vouch for (the arrows point from otp-rules to otp). */
export type ReferenceKey = 'rule_id';
/** True when the referenced thing exists. */
export type ReferenceCheck = (value: number) => Promise<boolean>;

export interface OtpServiceDeps {
  config: AppConfig;
  hasher: CodeHasher;
  limits: OtpLimits;
  queue: DeliveryQueue;
  metrics: Metrics;
  log: Logger;
  /** Where wrong codes are counted, outside any caller transaction (defaults to the main pool). */
  counters?: Queryable;
}

/**
 * The OTP feature's one entry point for GraphQL, REST and OTP rules: finds requests (with who may see them) and hands
 * sends to the {@link OtpSender} and codes to the {@link OtpVerifier}.
 */
export class OtpService {
  private readonly requests: OtpRequestRepository;
  /** The same table on the counters pool: statements that must never wait behind a caller's transaction. */
  private readonly counted: OtpRequestRepository;
  private readonly sender: OtpSender;
  private readonly verifier: OtpVerifier;
  private readonly referenceChecks = new Map<ReferenceKey, ReferenceCheck>();

  constructor(private readonly db: DataSource, private readonly deps: OtpServiceDeps) {
    this.requests = new OtpRequestRepository(db);
    this.counted = new OtpRequestRepository(deps.counters ?? db);
    this.sender = new OtpSender(db, this.requests, deps);
    this.verifier = new OtpVerifier(this.requests, this.counted, deps);
  }

  /**
   * Registers the check of a reference a send may carry (otp-rules registers `rule_id` at start). A reference nobody
   * registered a check for is refused: nothing can vouch for it.
   */
  registerReferenceCheck(key: ReferenceKey, check: ReferenceCheck): void {
    this.referenceChecks.set(key, check);
  }

  /** Validates the partner-shaped (snake_case) input, then sends; every failing field is reported at once. */
  async send(ctx: RequestContext, raw: Record<string, unknown>, options: SendOptions = {}): Promise<OtpRequestEntity> {
    const { value, errors } = validateSendOtp(raw, this.deps.config.DEFAULT_COUNTRY_CODE);
    const all = [...errors, ...(await this.referenceErrors(raw))];
    if (all.length || !value) throw new OtpValidationException(all);
    return this.sender.send(ctx, value, options);
  }

  /** Sends an already-validated command (OTP rules build theirs); see {@link OtpSender.send}. */
  sendValidated(ctx: RequestContext, command: SendOtpCommand, options: SendOptions = {}): Promise<OtpRequestEntity> {
    return this.sender.send(ctx, command, options);
  }

  /** GraphQL/REST verification from partner-shaped input. */
  async verify(ctx: RequestContext, raw: Record<string, unknown>): Promise<VerifyResult> {
    const { value, errors } = validateVerifyOtp(raw, this.deps.config.DEFAULT_COUNTRY_CODE);
    if (errors.length || !value) throw new OtpValidationException(errors);
    return this.verifier.verify(value, sentBy(ctx));
  }

  /** A rule OTP's code inside a guarded save's transaction; see {@link OtpVerifier.checkRuleCode}. */
  checkRuleCode(tx: Queryable, otpRequestId: string, code: string): Promise<VerifyResult> {
    return this.verifier.checkRuleCode(tx, otpRequestId, code);
  }

  async resend(ctx: RequestContext, id: string, channels?: OtpChannel[] | null): Promise<OtpRequestEntity> {
    return this.sender.resend(ctx, await this.found(ctx, id), channels);
  }

  async cancel(ctx: RequestContext, id: string): Promise<OtpRequestEntity> {
    return this.sender.cancel(await this.found(ctx, id));
  }

  /** A request the caller may see (admins: all; others: those they sent), or null. */
  get(ctx: RequestContext, id: string): Promise<OtpRequestEntity | null> {
    return this.requests.findVisible(id, sentBy(ctx));
  }

  page(ctx: RequestContext, filter: OtpRequestFilter, first: number, after?: string | null): Promise<PageSource<OtpRequestEntity>> {
    return this.requests.page(filter, sentBy(ctx), first, after);
  }

  /** The live OTP a rule may use for a record, read through `q` (a guarded save's transaction). */
  liveRuleOtp(q: Queryable, binding: RuleOtpBinding): Promise<OtpRequestEntity | null> {
    return this.requests.with(q).liveForRule(binding);
  }

  /** The newest OTP a rule may use for a record, whatever its state, read through `q`. */
  latestRuleOtp(q: Queryable, binding: RuleOtpBinding): Promise<OtpRequestEntity | null> {
    return this.requests.with(q).latestForRule(binding);
  }

  /** How many times the rule's OTP was sent for the record from `source` in the last `windowSeconds`. */
  ruleSendsSince(ruleId: number, recordId: string, source: string, windowSeconds: number): Promise<number> {
    return this.requests.ruleSendsSince(ruleId, recordId, source, windowSeconds);
  }

  /** The attempt cap frozen on the newest OTP the rule sent for the record (null if none); on the counters pool. */
  ruleAttemptCap(ruleId: number, recordId: string): Promise<number | null> {
    return this.counted.latestRuleAttemptCap(ruleId, recordId);
  }

  /** The rule locked the record: its live OTPs die. On the counters pool, never waiting for a lock a save holds. */
  lockOutRuleOtps(ruleId: number, recordId: string): Promise<void> {
    return this.counted.lockOutForRule(ruleId, recordId);
  }

  private async found(ctx: RequestContext, id: string): Promise<OtpRequestEntity> {
    const request = await this.get(ctx, id);
    if (!request) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP request has this id.', ['otpRequestId']);
    return request;
  }

  /** Checks needing the database, run even when other fields failed so every error comes back at once. */
  private async referenceErrors(raw: Record<string, unknown>): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    const templateId = typeof raw.email_template_id === 'string' ? raw.email_template_id.trim() : '';
    if (templateId && !templateId.includes('\u0000')) { // the validator reports a NUL; Postgres would refuse it
      const [template] = await this.db.query(`SELECT * FROM message_templates WHERE id = $1 AND channel = 'EMAIL'`, [templateId.slice(0, 64)]);
      if (!template) {
        errors.push({ key: 'email_template_id', message: 'The selected email template id is invalid.', code: ErrorCode.INVALID });
      } else {
        const given = raw.email_template_attributes && typeof raw.email_template_attributes === 'object' ? Object.keys(raw.email_template_attributes) : [];
        // the validator reports a caller subject that may not be a template; a stored template saved before the
        // helper allow-list and using a forbidden helper is refused here, before anything is queued
        const subject = typeof raw.email_subject === 'string' && templateProblem(raw.email_subject) === null ? raw.email_subject : null;
        let needed: string[] = [];
        if ([template.subject, template.body, template.html_body].some((text) => text && templateProblem(text))) {
          errors.push({ key: 'email_template_id', message: 'The selected email template id is invalid.', code: ErrorCode.INVALID });
        } else {
          needed = templateVariables(template.subject, template.body, template.html_body, subject);
        }
        for (const name of needed.filter((n) => !INJECTED_VARIABLES.includes(n) && !given.includes(n))) {
          errors.push({ key: `email_template_attributes.${name}`, message: `The email template attributes.${name} field is required.`, code: ErrorCode.REQUIRED });
        }
      }
    }
    const ruleId = integerOf(raw.rule_id);
    if (ruleId !== null) {
      const exists = this.referenceChecks.get('rule_id');
      if (!exists || !(await exists(ruleId))) errors.push({ key: 'rule_id', message: 'The selected rule id is invalid.', code: ErrorCode.INVALID });
    }
    if (isUuid(raw.record_id)) {
      const [record] = await this.db.query('SELECT 1 FROM records WHERE id = $1 AND deleted_at IS NULL', [raw.record_id]);
      if (!record) errors.push({ key: 'record_id', message: 'The selected record id is invalid.', code: ErrorCode.INVALID });
    }
    return errors;
  }
}

/** A positive 32-bit integer as the validator accepts it (a number or a string of digits); null otherwise. */
function integerOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 2_147_483_647 ? n : null;
}

/** Whose requests the caller may see: admins all, others those they sent. */
function sentBy(ctx: RequestContext): SentBy {
  return ctx.user.role === Role.ADMIN ? null : ctx.user.id;
}
