import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from '../app/config';
import type { RequestContext } from '../app/context';
import type { Metrics } from '../app/metrics';
import { Role } from '../auth/roles';
import { ErrorCode, UserErrorException } from '../common/errors';
import { isUuid } from '../common/ids';
import { decodeCursor, encodeCursor, type PageSource } from '../common/pagination';
import { queryRows, type Queryable } from '../db/sql';
import { CodeHasher, codeTypeOf, generateCode } from './codes';
import type { DeliveryQueue } from './delivery/delivery-queue';
import { OtpValidationException } from './otp.errors';
import { OtpVerifier, invalid, locked, type VerifyResult } from './otp-verification';
import { RateLimitedException, type OtpLimits } from './otp-limits';
import { toOtpRequestEntity, type OtpChannel, type OtpRequestEntity, type OtpStatus, type ResendMode } from './otp-request.entity';
import { validateSendOtp, validateVerifyOtp, type FieldError, type SendOtpCommand, type VerifyOtpCommand } from './otp.validation';
import { INJECTED_VARIABLES, templateVariables } from './templates/render';

export type { VerifyResult } from './otp-verification';

/** Per-send policy; a later OTP rule passes its own values, everything else uses the configured defaults. */
export interface OtpPolicy {
  validitySeconds: number;
  maxAttempts: number;
  maxResends: number;
  resendCooldownSeconds: number;
  resendMode: ResendMode;
}

export type SendOptions = Partial<OtpPolicy>;

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
   */
  async sendValidated(ctx: RequestContext, command: SendOtpCommand, options: SendOptions = {}): Promise<OtpRequestEntity> {
    const policy = { ...this.defaultPolicy, ...options };
    const recipients = recipientsOf(command.channels, command.mobile, command.email);
    const testCode = recipients.map((r) => this.config.OTP_TEST_RECIPIENTS.get(r)).find(Boolean) ?? null;
    await this.deps.limits.consumeSend(callerKey(ctx), recipients);

    const code = testCode ?? command.code ?? generateCode(command.codeLength, command.codeType);
    const id = randomUUID();
    const keepSealed = policy.resendMode === 'SAME_CODE_IF_VALID' || command.code !== null;
    const request = await this.db.transaction(async (tx) => {
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
      return toOtpRequestEntity(row);
    });
    if (!testCode) this.countSent(command.channels);
    ctx.log.info({ otpRequestId: request.id, channels: request.channels, source: request.source, testRecipient: request.testRecipient }, 'OTP sent');
    return request;
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
      [row] = await this.db.query(`SELECT * FROM otp_requests WHERE id = $1 AND ${visible.sql}`, [command.otpRequestId, ...visible.params]);
      recipients = row ? [row.mobile, row.email].filter(Boolean) : [];
      phantomKey = `id:${command.otpRequestId}`;
    } else {
      recipients = [command.mobile, command.email].filter((r): r is string => !!r);
      const visible = this.visibility(ctx, 4);
      [row] = await this.db.query(
        `SELECT * FROM otp_requests
          WHERE (mobile = $1 OR email = $2) AND source = $3 AND ${visible.sql}
            AND status IN ('PENDING', 'MAX_ATTEMPTS_REACHED') AND created_at > now() - interval '1 day'
          ORDER BY (status = 'PENDING' AND expires_at > now()) DESC, created_at DESC LIMIT 1`,
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

  /** Sends again on the same (or fewer) channels: a new code, or the same one under SAME_CODE_IF_VALID. */
  async resend(ctx: RequestContext, id: string, channels?: OtpChannel[] | null): Promise<OtpRequestEntity> {
    const current = await this.get(ctx, id);
    if (!current) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP request has this id.', ['otpRequestId']);
    this.assertPending(current, 'resent');
    const chosen = channels?.length ? [...new Set(channels)] : current.channels;
    const foreign = chosen.filter((c) => !current.channels.includes(c));
    if (foreign.length) throw UserErrorException.of(ErrorCode.INVALID, `This OTP was not sent on ${foreign.join(', ')}.`, ['channels']);
    if (current.sendCount - 1 >= current.maxResends) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `This OTP was already resent ${current.maxResends} times, the maximum; send a new one.`, ['otpRequestId']);
    }
    const wait = Math.ceil((current.lastSentAt.getTime() + current.resendCooldownSeconds * 1000 - Date.now()) / 1000);
    if (wait > 0) throw new RateLimitedException(wait, 'This OTP was sent moments ago.');
    await this.deps.limits.consumeSend(callerKey(ctx), recipientsOf(chosen, current.mobile, current.email));

    const testCode = current.testRecipient ? [current.mobile, current.email].map((r) => r && this.config.OTP_TEST_RECIPIENTS.get(r)).find(Boolean) ?? null : null;
    const sameCode = current.codeSealed && (current.resendMode === 'SAME_CODE_IF_VALID' || current.codeCallerSupplied) ? this.deps.hasher.unseal(current.codeSealed) : null;
    const code = testCode ?? sameCode ?? generateCode(current.codeLength, current.codeType);
    const updated = await this.db.transaction(async (tx) => {
      const [row] = await queryRows(tx,
        `UPDATE otp_requests
            SET send_count = send_count + 1, last_sent_at = now(), updated_at = now(), code_hash = $2,
                expires_at = CASE WHEN $3 THEN expires_at ELSE now() + make_interval(secs => validity_seconds) END
          WHERE id = $1 AND status = 'PENDING' AND expires_at > now() AND send_count <= max_resends
            AND last_sent_at <= now() - make_interval(secs => resend_cooldown_seconds)
          RETURNING *`,
        [current.id, this.deps.hasher.hash(current.id, code), sameCode !== null],
      );
      if (!row) return null;
      if (!current.testRecipient) await this.queueDeliveries(tx, row, chosen, code);
      return toOtpRequestEntity(row);
    });
    if (!updated) throw new RateLimitedException(Math.max(1, current.resendCooldownSeconds), 'This OTP was resent moments ago.');
    if (!current.testRecipient) this.countSent(chosen);
    return updated;
  }

  async cancel(ctx: RequestContext, id: string): Promise<OtpRequestEntity> {
    const current = await this.get(ctx, id);
    if (!current) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No OTP request has this id.', ['otpRequestId']);
    const [row] = await queryRows(this.db,
      `UPDATE otp_requests SET status = 'CANCELED', code_sealed = NULL, updated_at = now()
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
        let needed: string[] = [];
        try {
          needed = templateVariables(template.subject, template.body, template.html_body, typeof raw.email_subject === 'string' ? raw.email_subject : null);
        } catch {
          errors.push({ key: 'email_subject', message: 'The email subject field format is invalid.', code: ErrorCode.INVALID });
        }
        for (const name of needed.filter((n) => !INJECTED_VARIABLES.includes(n) && !given.includes(n))) {
          errors.push({ key: `email_template_attributes.${name}`, message: `The email template attributes.${name} field is required.`, code: ErrorCode.REQUIRED });
        }
      }
    }
    if (isUuid(raw.record_id)) {
      const [record] = await this.db.query('SELECT 1 FROM records WHERE id = $1 AND deleted_at IS NULL', [raw.record_id]);
      if (!record) errors.push({ key: 'record_id', message: 'The selected record id is invalid.', code: ErrorCode.INVALID });
    }
    return errors;
  }
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
