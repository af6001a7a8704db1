import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from '../app/config';
import type { RequestContext } from '../app/context';
import type { Metrics } from '../app/metrics';
import { Role } from '../auth/roles';
import { ErrorCode, UserErrorException } from '../common/errors';
import { isUuid } from '../common/ids';
import { decodeCursor, encodeCursor, type PageSource } from '../common/pagination';
import { isUniqueViolation, queryRows, type Queryable } from '../db/sql';
import { CodeHasher, codeTypeOf, generateCode } from './codes';
import type { DeliveryQueue } from './delivery/delivery-queue';
import { OtpValidationException } from './otp.errors';
import { OtpVerifier, invalid, locked, type VerifyResult } from './otp-verification';
import { RateLimitedException, type OtpLimits } from './otp-limits';
import { toOtpRequestEntity, type OtpChannel, type OtpRequestEntity, type OtpStatus, type ResendMode } from './otp-request.entity';
import { validateSendOtp, validateVerifyOtp, type FieldError, type SendOtpCommand, type VerifyOtpCommand } from './otp.validation';
import { INJECTED_VARIABLES, templateProblem, templateVariables } from './templates/render';

export type { VerifyResult } from './otp-verification';

/** Per-send policy; a later OTP rule passes its own values, everything else uses the configured defaults. */
export interface OtpPolicy {
  validitySeconds: number;
  maxAttempts: number;
  maxResends: number;
  resendCooldownSeconds: number;
  resendMode: ResendMode;
}

export type SendOptions = Partial<OtpPolicy> & {
  /**
   * Runs inside the send's purpose transaction, once its per-purpose lock is held and before anything is read or
   * written (OTP rules count their per-record send cap here, so parallel sends cannot pass one stale count). Throw to
   * refuse the send: nothing is written and the rate limits taken are given back.
   */
  beforeIssue?: (tx: Queryable) => Promise<void>;
};

/**
 * The references a send may carry, by the type of their value: only the feature owning the referenced thing can vouch
 * for it (a rule: the arrows point from otp-rules to otp; a record: its table belongs to records).
 */
export interface ReferenceValues {
  rule_id: number;
  record_id: string;
}
export type ReferenceKey = keyof ReferenceValues;
/** True when the referenced thing exists. */
export type ReferenceCheck<K extends ReferenceKey> = (value: ReferenceValues[K]) => Promise<boolean>;
type ReferenceChecks = { [K in ReferenceKey]?: ReferenceCheck<K> };

export interface OtpRequestFilter {
  status?: OtpStatus | null;
  source?: string | null;
  recordId?: string | null;
}

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

const MOBILE_CHANNELS: OtpChannel[] = ['SMS', 'WHATSAPP'];

/** Sends, verifies, resends and cancels OTPs. GraphQL, REST and (later) OTP rules all go through here. */
export class OtpService {
  private readonly config: AppConfig;
  private readonly verifier: OtpVerifier;
  private readonly referenceChecks: ReferenceChecks = {};

  constructor(private readonly db: DataSource, private readonly deps: OtpServiceDeps) {
    this.config = deps.config;
    this.verifier = new OtpVerifier(deps.counters ?? db, deps.hasher);
  }

  get defaultPolicy(): OtpPolicy {
    const c = this.config;
    return {
      validitySeconds: c.OTP_VALIDITY_SECONDS, maxAttempts: c.OTP_MAX_ATTEMPTS, maxResends: c.OTP_MAX_RESENDS,
      resendCooldownSeconds: c.OTP_RESEND_COOLDOWN_SECONDS, resendMode: c.OTP_RESEND_MODE,
    };
  }

  /**
   * Registers the check of a reference a send may carry (`rule_id` and `record_id` are registered at start). A
   * reference nobody registered a check for is refused: nothing can vouch for it.
   */
  registerReferenceCheck<K extends ReferenceKey>(key: K, check: NonNullable<ReferenceChecks[K]>): void {
    this.referenceChecks[key] = check;
  }

  /** Validates the partner-shaped (snake_case) input, then sends; every failing field is reported at once. */
  async send(ctx: RequestContext, raw: Record<string, unknown>, options: SendOptions = {}): Promise<OtpRequestEntity> {
    const { value, errors } = validateSendOtp(raw, this.config.DEFAULT_COUNTRY_CODE);
    const all = [...errors, ...(await this.referenceErrors(raw))];
    if (all.length || !value) throw new OtpValidationException(all);
    return this.sendValidated(ctx, value, options);
  }

  /**
   * Sends an already-validated command: writes the request and one delivery job per channel in one transaction.
   * The code is returned to nobody; it exists only as an HMAC (and sealed inside the queued deliveries).
   *
   * One live OTP per purpose (API sends: recipient + source + sender; RULE sends: rule + record): in the same
   * transaction, and only after every rate limit accepted the send, a live OTP for the purpose is either sent again
   * (SAME_CODE_IF_VALID, when this is the same send again) or SUPERSEDED by the new one. A refused send changes nothing.
   */
  async sendValidated(ctx: RequestContext, command: SendOtpCommand, options: SendOptions = {}): Promise<OtpRequestEntity> {
    const { beforeIssue, ...overrides } = options;
    const policy = { ...this.defaultPolicy, ...overrides };
    const recipients = recipientsOf(command.channels, command.mobile, command.email);
    const testCode = recipients.map((r) => this.config.OTP_TEST_RECIPIENTS.get(r)).find(Boolean) ?? null;
    const caller = callerKey(ctx);
    await this.deps.limits.consumeSend(caller, recipients);
    let issued: Issued;
    try {
      issued = await this.issueOnce(ctx, command, policy, testCode, beforeIssue);
    } catch (error) {
      await this.deps.limits.refundSend(caller, recipients); // nothing was sent
      throw error;
    }
    const { request, channels, superseded, delivered } = issued;
    if (delivered) this.countSent(channels);
    ctx.log.info({ otpRequestId: request.id, channels, source: request.source, testRecipient: request.testRecipient, superseded, sendCount: request.sendCount }, 'OTP sent');
    return request;
  }

  /** Runs the purpose transaction; the unique indexes are the backstop of the advisory lock, so a collision is retried once. */
  private async issueOnce(ctx: RequestContext, command: SendOtpCommand, policy: OtpPolicy, testCode: string | null,
    beforeIssue?: SendOptions['beforeIssue']): Promise<Issued> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.db.transaction((tx) => this.issueWithin(tx, ctx, command, policy, testCode, beforeIssue));
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (attempt >= 2) {
          throw UserErrorException.of(ErrorCode.CONFLICT, 'Another OTP for the same purpose was being sent at the same moment; try again.');
        }
      }
    }
  }

  private async issueWithin(tx: EntityManager, ctx: RequestContext, command: SendOtpCommand, policy: OtpPolicy, testCode: string | null,
    beforeIssue?: SendOptions['beforeIssue']): Promise<Issued> {
    const purpose = purposeOf(command, ctx.user.id);
    for (const key of purpose.lockKeys) await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
    if (beforeIssue) await beforeIssue(tx);
    // a PENDING row past its expiry still holds the unique index: settle it first
    await tx.query(`UPDATE otp_requests SET status = 'EXPIRED', code_sealed = NULL, updated_at = now()
                     WHERE ${purpose.sql} AND status = 'PENDING' AND expires_at <= now()`, purpose.params);
    const live: Array<Record<string, any>> = await tx.query(
      `SELECT * FROM otp_requests WHERE ${purpose.sql} AND status = 'PENDING' ORDER BY created_at DESC FOR UPDATE`, purpose.params);

    if (policy.resendMode === 'SAME_CODE_IF_VALID' && live.length === 1) {
      const again = this.sameSendAgain(live[0], command);
      if (again) return this.sendAgainWithin(tx, live[0], command.channels, again);
    }
    const superseded = live.map((row) => row.id as string);
    if (superseded.length) {
      await tx.query(
        `UPDATE otp_requests SET status = 'CANCELED', cancel_reason = 'SUPERSEDED', code_sealed = NULL, updated_at = now() WHERE id = ANY($1::uuid[])`,
        [superseded]);
    }
    const code = testCode ?? command.code ?? generateCode(command.codeLength, command.codeType);
    const id = randomUUID();
    const keepSealed = policy.resendMode === 'SAME_CODE_IF_VALID' || command.code !== null;
    const [row] = await tx.query(
      `INSERT INTO otp_requests (id, channels, mobile, email, email_from_name, email_subject, email_template_id, email_template_attributes,
         source, type, code_length, code_type, code_hash, code_sealed, code_caller_supplied, test_recipient, expires_at, max_attempts,
         max_resends, resend_cooldown_seconds, resend_mode, validity_seconds, rule_id, record_id, user_id, api_key_id,
         issued_by, intended_fields, sms_template_id, whatsapp_template_id, message_variables)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now() + make_interval(secs => $17), $18,
         $19, $20, $21, $17, $22, $23, $24, $25, $26, $27, $28, $29, $30)
       RETURNING *`,
      [id, command.channels, command.mobile, command.email, command.emailFromName, command.emailSubject, command.emailTemplateId,
        command.emailTemplateAttributes, command.source, command.type, testCode ? testCode.length : command.codeLength,
        testCode ? codeTypeOf(testCode) : command.codeType, this.deps.hasher.hash(id, code), keepSealed ? this.deps.hasher.seal(code) : null,
        command.code !== null && !testCode, testCode !== null, policy.validitySeconds, policy.maxAttempts, policy.maxResends,
        policy.resendCooldownSeconds, policy.resendMode, command.ruleId, command.recordId, ctx.user.id, ctx.apiKeyId,
        command.issuedBy, command.intendedFields === null ? null : JSON.stringify(command.intendedFields), command.smsTemplateId,
        command.whatsappTemplateId, JSON.stringify(command.messageVariables)],
    );
    if (!testCode) await this.queueDeliveries(tx, row, command.channels, code);
    return { request: toOtpRequestEntity(row), channels: command.channels, superseded, delivered: !testCode };
  }

  /**
   * The live request's code when `command` is the same send again (same recipients and message, channels among the
   * live one's, the same caller code if any) and it may still be resent; null when a new OTP should replace it.
   */
  private sameSendAgain(row: Record<string, any>, command: SendOtpCommand): string | null {
    const live = toOtpRequestEntity(row);
    const sameMessage = live.mobile === command.mobile && live.email === command.email
      && command.channels.every((c) => live.channels.includes(c))
      && live.emailFromName === command.emailFromName && live.emailSubject === command.emailSubject
      && live.emailTemplateId === command.emailTemplateId && live.smsTemplateId === command.smsTemplateId
      && live.whatsappTemplateId === command.whatsappTemplateId && live.ruleId === command.ruleId && live.recordId === command.recordId
      && sameJson(live.emailTemplateAttributes, command.emailTemplateAttributes) && sameJson(live.messageVariables, command.messageVariables)
      && sameJson(live.intendedFields, command.intendedFields);
    if (!sameMessage || live.sendCount - 1 >= live.maxResends) return null;
    const code = this.currentCode(live);
    if (code === null) return null;
    if (command.code !== null && !this.deps.hasher.matches(live.id, command.code, live.codeHash)) return null;
    return code;
  }

  /** The code of a pending request, when it can be sent again as it is (a test recipient's, or a sealed one). */
  private currentCode(request: OtpRequestEntity): string | null {
    if (request.testRecipient) return [request.mobile, request.email].map((r) => r && this.config.OTP_TEST_RECIPIENTS.get(r)).find(Boolean) ?? null;
    return request.codeSealed ? this.deps.hasher.unseal(request.codeSealed) : null;
  }

  /** Sends the live request's same code again inside the purpose transaction; the resend cooldown applies. */
  private async sendAgainWithin(tx: Queryable, row: Record<string, any>, channels: OtpChannel[], code: string): Promise<Issued> {
    const updated = await this.markResent(tx, row.id, code, true);
    if (!updated) {
      const wait = Math.max(1, Math.ceil((row.last_sent_at.getTime() + row.resend_cooldown_seconds * 1000 - Date.now()) / 1000));
      throw new RateLimitedException(wait, 'This OTP was sent moments ago; the same code stays valid.');
    }
    if (!row.test_recipient) await this.queueDeliveries(tx, updated, channels, code);
    return { request: toOtpRequestEntity(updated), channels, superseded: [], delivered: !row.test_recipient };
  }

  /** One more send of a pending request (the new code's hash; same code: the expiry stays), if its cooldown has passed. */
  private async markResent(tx: Queryable, id: string, code: string, sameCode: boolean): Promise<Record<string, any> | null> {
    const [row] = await queryRows(tx,
      `UPDATE otp_requests
          SET send_count = send_count + 1, last_sent_at = now(), updated_at = now(), code_hash = $2,
              expires_at = CASE WHEN $3 THEN expires_at ELSE now() + make_interval(secs => validity_seconds) END
        WHERE id = $1 AND status = 'PENDING' AND expires_at > now() AND send_count <= max_resends
          AND last_sent_at <= now() - make_interval(secs => resend_cooldown_seconds)
        RETURNING *`,
      [id, this.deps.hasher.hash(id, code), sameCode],
    );
    return row ?? null;
  }

  /** GraphQL/REST verification from partner-shaped input. */
  async verify(ctx: RequestContext, raw: Record<string, unknown>): Promise<VerifyResult> {
    const { value, errors } = validateVerifyOtp(raw, this.config.DEFAULT_COUNTRY_CODE);
    if (errors.length || !value) throw new OtpValidationException(errors);
    const result = await this.verifyCommand(ctx, value);
    this.deps.metrics.otpVerify.inc({ result: result.verified ? 'VERIFIED' : result.reason! });
    return result;
  }

  private async verifyCommand(ctx: RequestContext, command: VerifyOtpCommand): Promise<VerifyResult> {
    let row: Record<string, any> | undefined;
    let recipients: string[];
    let phantomKey: string;
    if (command.otpRequestId !== null) {
      const visible = this.visibility(ctx, 2);
      // a rule OTP's only consumer is the guarded save: here it does not exist (no burning, probing or guessing around the rule's lock)
      [row] = await this.db.query(`SELECT * FROM otp_requests WHERE id = $1 AND issued_by = 'API' AND ${visible.sql}`, [command.otpRequestId, ...visible.params]);
      recipients = row ? [row.mobile, row.email].filter(Boolean) : [];
      phantomKey = `id:${command.otpRequestId}`;
    } else {
      recipients = [command.mobile, command.email].filter((r): r is string => !!r);
      const visible = this.visibility(ctx, 4);
      // only the newest request for the recipient and source counts: a superseded or older one never answers
      [row] = await this.db.query(
        `SELECT * FROM otp_requests
          WHERE (mobile = $1 OR email = $2) AND source = $3 AND issued_by = 'API' AND ${visible.sql} AND created_at > now() - interval '1 day'
          ORDER BY created_at DESC, id DESC LIMIT 1`,
        [command.mobile, command.email, command.source, ...visible.params],
      );
      phantomKey = `${recipients.join('|')}:${command.source}`;
    }
    try {
      await this.deps.limits.reserveVerifyFailure(recipients);
    } catch (error) {
      if (error instanceof RateLimitedException) this.deps.metrics.otpVerify.inc({ result: 'RATE_LIMITED' });
      throw error;
    }
    if (!row) {
      const left = await this.deps.limits.phantomAttempt(phantomKey);
      return left < 0 ? locked() : invalid(left);
    }
    let result: VerifyResult;
    try {
      result = await this.verifier.check(this.db, row, command.code);
    } catch (error) {
      await this.deps.limits.refundVerifyFailure(recipients);
      throw error;
    }
    if (result.verified || result.reason !== ErrorCode.OTP_INVALID) await this.deps.limits.refundVerifyFailure(recipients);
    return result;
  }

  /**
   * Verifies `code` for `otpRequestId` as part of the caller's transaction (e.g. a guarded record save): a right code is
   * consumed only if `tx` commits; a wrong one is counted at once, outside `tx`, so a rolled-back save still spends it.
   */
  async verifyWithin(tx: Queryable, otpRequestId: string, code: string): Promise<VerifyResult> {
    const [row] = isUuid(otpRequestId) ? await tx.query('SELECT * FROM otp_requests WHERE id = $1', [otpRequestId]) : [];
    if (!row) return invalid(null);
    const result = await this.verifier.check(tx, row, code);
    this.deps.metrics.otpVerify.inc({ result: result.verified ? 'VERIFIED' : result.reason! });
    return result;
  }

  /**
   * Sends again on the same (or fewer) channels: a new code, or the same one under SAME_CODE_IF_VALID. Rule OTPs are
   * not found here (nor by verify and cancel): the rule sends them again (sendRuleOtp), the guarded save consumes them.
   */
  async resend(ctx: RequestContext, id: string, channels?: OtpChannel[] | null): Promise<OtpRequestEntity> {
    const current = await this.get(ctx, id);
    if (!current || current.issuedBy === 'RULE') throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP request has this id.', ['otpRequestId']);
    this.assertPending(current, 'resent');
    const chosen = channels?.length ? [...new Set(channels)] : current.channels;
    const foreign = chosen.filter((c) => !current.channels.includes(c));
    if (foreign.length) throw UserErrorException.of(ErrorCode.INVALID, `This OTP was not sent on ${foreign.join(', ')}.`, ['channels']);
    if (current.sendCount - 1 >= current.maxResends) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `This OTP was already resent ${current.maxResends} times, the maximum; send a new one.`, ['otpRequestId']);
    }
    const wait = Math.ceil((current.lastSentAt.getTime() + current.resendCooldownSeconds * 1000 - Date.now()) / 1000);
    if (wait > 0) throw new RateLimitedException(wait, 'This OTP was sent moments ago.');
    const caller = callerKey(ctx);
    const recipients = recipientsOf(chosen, current.mobile, current.email);
    await this.deps.limits.consumeSend(caller, recipients);

    // a test recipient keeps its fixed code, but (like any NEW_CODE resend) gets a fresh validity
    const sameCode = current.resendMode === 'SAME_CODE_IF_VALID' || current.codeCallerSupplied ? this.currentCode(current) : null;
    const code = sameCode ?? (current.testRecipient ? this.currentCode(current) : null) ?? generateCode(current.codeLength, current.codeType);
    let updated: OtpRequestEntity | null;
    try {
      updated = await this.db.transaction(async (tx) => {
        const row = await this.markResent(tx, current.id, code, sameCode !== null);
        if (!row) return null;
        if (!current.testRecipient) await this.queueDeliveries(tx, row, chosen, code);
        return toOtpRequestEntity(row);
      });
    } catch (error) {
      await this.deps.limits.refundSend(caller, recipients);
      throw error;
    }
    if (!updated) {
      await this.deps.limits.refundSend(caller, recipients);
      throw new RateLimitedException(Math.max(1, current.resendCooldownSeconds), 'This OTP was resent moments ago.');
    }
    if (!current.testRecipient) this.countSent(chosen);
    return updated;
  }

  async cancel(ctx: RequestContext, id: string): Promise<OtpRequestEntity> {
    const current = await this.get(ctx, id);
    if (!current || current.issuedBy === 'RULE') throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP request has this id.', ['otpRequestId']);
    const [row] = await queryRows(this.db,
      `UPDATE otp_requests SET status = 'CANCELED', cancel_reason = 'CANCELED_BY_USER', code_sealed = NULL, updated_at = now()
        WHERE id = $1 AND status = 'PENDING' AND expires_at > now() RETURNING *`,
      [current.id],
    );
    if (row) return toOtpRequestEntity(row);
    const [fresh] = await this.db.query('SELECT * FROM otp_requests WHERE id = $1', [current.id]);
    this.assertPending(toOtpRequestEntity(fresh), 'canceled');
    throw UserErrorException.of(ErrorCode.OTP_EXPIRED, 'Only a pending OTP can be canceled; this one has just expired.', ['otpRequestId']);
  }

  /** A request the caller may see (admins: all; others: those they sent), or null. */
  async get(ctx: RequestContext, id: string): Promise<OtpRequestEntity | null> {
    if (!isUuid(id)) return null;
    const visible = this.visibility(ctx, 2);
    const [row] = await this.db.query(`SELECT * FROM otp_requests WHERE id = $1 AND ${visible.sql}`, [id, ...visible.params]);
    return row ? toOtpRequestEntity(row) : null;
  }

  async page(ctx: RequestContext, filter: OtpRequestFilter, first: number, after?: string | null): Promise<PageSource<OtpRequestEntity>> {
    const params: unknown[] = [];
    const where: string[] = [];
    const visible = this.visibility(ctx, 1);
    where.push(visible.sql);
    params.push(...visible.params);
    if (filter.status) {
      params.push(filter.status);
      where.push(`(CASE WHEN status = 'PENDING' AND expires_at <= now() THEN 'EXPIRED' ELSE status END) = $${params.length}`);
    }
    if (filter.source) {
      params.push(filter.source);
      where.push(`source = $${params.length}`);
    }
    if (filter.recordId) {
      if (!isUuid(filter.recordId)) where.push('false');
      else {
        params.push(filter.recordId);
        where.push(`record_id = $${params.length}`);
      }
    }
    const countWhere = [...where];
    const countParams = [...params];
    if (after) {
      const [createdAt, id] = decodeCursor(after, ['timestamp', 'uuid']) as [string, string];
      params.push(createdAt, id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(first + 1);
    const rows: Array<Record<string, any>> = await this.db.query(
      `SELECT * FROM otp_requests WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`, params,
    );
    return {
      rows: rows.map(toOtpRequestEntity),
      first,
      cursorOf: (r) => encodeCursor([r.createdAt.toISOString(), r.id]),
      count: async () => (await this.db.query(`SELECT count(*)::int AS n FROM otp_requests WHERE ${countWhere.join(' AND ')}`, countParams))[0].n,
    };
  }

  private assertPending(request: OtpRequestEntity, verb: string): void {
    if (request.status === 'PENDING') return;
    const code = request.status === 'EXPIRED' ? ErrorCode.OTP_EXPIRED : request.status === 'MAX_ATTEMPTS_REACHED' ? ErrorCode.OTP_LOCKED : ErrorCode.INVALID;
    throw UserErrorException.of(code, `Only a pending OTP can be ${verb}; this one is ${request.status}.`, ['otpRequestId']);
  }

  private visibility(ctx: RequestContext, index: number): { sql: string; params: unknown[] } {
    if (ctx.user.role === Role.ADMIN) return { sql: 'true', params: [] };
    return { sql: `user_id = $${index}`, params: [ctx.user.id] };
  }

  private async queueDeliveries(tx: Queryable, request: Record<string, any>, channels: OtpChannel[], code: string): Promise<void> {
    const sealed = this.deps.hasher.seal(code);
    const rows: Array<{ id: string }> = await tx.query(
      `INSERT INTO otp_deliveries (otp_request_id, channel, recipient, provider, code_sealed)
       SELECT $1, c.channel, c.recipient, c.provider, $2 FROM jsonb_to_recordset($3::jsonb) AS c(channel text, recipient text, provider text)
       RETURNING id`,
      [request.id, sealed, JSON.stringify(channels.map((channel) => ({
        channel, recipient: MOBILE_CHANNELS.includes(channel) ? request.mobile : request.email, provider: this.providerName(channel),
      })))],
    );
    await this.deps.queue.enqueue(tx, rows.map((r) => r.id));
  }

  /** Counted once the transaction that queued the messages has committed. */
  private countSent(channels: OtpChannel[]): void {
    for (const channel of channels) this.deps.metrics.otpSent.inc({ channel });
  }

  private providerName(channel: OtpChannel): string {
    return channel === 'EMAIL' ? this.config.EMAIL_PROVIDER : channel === 'SMS' ? this.config.SMS_PROVIDER : this.config.WHATSAPP_PROVIDER;
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
      const exists = this.referenceChecks.rule_id;
      if (!exists || !(await exists(ruleId))) errors.push({ key: 'rule_id', message: 'The selected rule id is invalid.', code: ErrorCode.INVALID });
    }
    if (isUuid(raw.record_id)) {
      const exists = this.referenceChecks.record_id;
      if (!exists || !(await exists(raw.record_id))) errors.push({ key: 'record_id', message: 'The selected record id is invalid.', code: ErrorCode.INVALID });
    }
    return errors;
  }
}

interface Issued {
  request: OtpRequestEntity;
  /** The channels this send queued (or would have, for a test recipient). */
  channels: OtpChannel[];
  superseded: string[];
  delivered: boolean;
}

interface Purpose {
  /** Advisory lock keys, sorted so two sends never wait on each other in opposite orders. */
  lockKeys: string[];
  /** The live-OTP unique indexes' key columns for this send, as a WHERE clause over `params`. */
  sql: string;
  params: unknown[];
}

/**
 * What one live OTP is kept for: a rule OTP's rule and record; otherwise each stored recipient with the source and the
 * sending key's owner (the partial unique indexes of otp_requests say the same).
 */
function purposeOf(command: SendOtpCommand, userId: string): Purpose {
  if (command.issuedBy === 'RULE') {
    return {
      lockKeys: [`otp-live:rule:${command.ruleId}:${command.recordId}`],
      sql: `issued_by = 'RULE' AND rule_id = $1 AND record_id = $2`,
      params: [command.ruleId, command.recordId],
    };
  }
  const keys = [
    command.mobile && `otp-live:mobile:${command.mobile}:${command.source}:${userId}`,
    command.email && `otp-live:email:${command.email}:${command.source}:${userId}`,
  ].filter((k): k is string => !!k).sort();
  return {
    lockKeys: keys,
    sql: `issued_by = 'API' AND source = $3 AND user_id = $4 AND (mobile = $1 OR email = $2)`,
    params: [command.mobile, command.email, command.source, userId],
  };
}

/** A positive 32-bit integer as the validator accepts it (a number or a string of digits); null otherwise. */
function integerOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 2_147_483_647 ? n : null;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  return value;
}

function recipientsOf(channels: OtpChannel[], mobile: string | null, email: string | null): string[] {
  const list: string[] = [];
  if (mobile && channels.some((c) => MOBILE_CHANNELS.includes(c))) list.push(mobile);
  if (email && channels.includes('EMAIL')) list.push(email);
  return list;
}

/** The API key (or, for JWT callers, the user) that per-caller limits count against. */
function callerKey(ctx: RequestContext): string {
  return ctx.apiKeyId ? `key:${ctx.apiKeyId}` : `user:${ctx.user.id}`;
}
