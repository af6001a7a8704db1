import { randomUUID } from 'node:crypto';
import type { Pool, QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import type { RequestContext } from '../core/context';
import type { Metrics } from '../core/metrics';
import { ErrorCode, UserErrorException } from '../core/errors';
import { isUniqueViolation, queryRows, type Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { CodeHasher, codeTypeOf, generateCode } from './codes';
import type { DeliveryQueue, QueuedDelivery } from './delivery/delivery-queue';
import { RateLimitedException, type OtpLimits, type SendCaller } from './otp-limits';
import type { OtpChannel, OtpRequestEntity, ResendMode } from './otp-request.entity';
import { OtpRequestRepository, purposeOf, type NewOtpRequest } from './otp-request.repository';
import { PipelineError, poolOf, runPipelined, type Statement } from '../db/pipelined-sql';
import { toOtpRequestEntity } from './otp-request.entity';
import type { SendOtpCommand, WorkflowStep } from './otp.validation';
import { maskedRecipients, otpCanceled, otpDeliveryUpdated, otpSentEvents, otpSentRowsSql } from './otp.events';
import type { ScreenedSend, SendScreen } from './send-screen';

/** Per-send policy; an OTP rule passes its own values, everything else uses the configured defaults. */
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

export type SenderConfig = Pick<AppConfig,
  'OTP_VALIDITY_SECONDS' | 'OTP_MAX_ATTEMPTS' | 'OTP_MAX_RESENDS' | 'OTP_RESEND_COOLDOWN_SECONDS' | 'OTP_RESEND_MODE' | 'OTP_TEST_RECIPIENTS'
  | 'EMAIL_PROVIDER' | 'SMS_PROVIDER' | 'WHATSAPP_PROVIDER'>;

export interface OtpSenderDeps {
  config: SenderConfig;
  hasher: CodeHasher;
  limits: OtpLimits;
  queue: DeliveryQueue;
  metrics: Metrics;
  events: EventPublisher;
  /** The registered send screen (the fraud guard), read on each send. */
  screens: { current: SendScreen };
}

const MOBILE_CHANNELS: OtpChannel[] = ['SMS', 'WHATSAPP'];

/**
 * A delivery about to be written. A workflow's steps carry their place (`step`) and when they are due (`dueInSeconds`
 * after the send: the sum of the waits so far); a later step (due > 0) is written SCHEDULED, the rest QUEUED.
 */
interface DeliveryRow { id: string; channel: OtpChannel; recipient: string; provider: string; step: number | null; dueInSeconds: number }

function statusOf(delivery: DeliveryRow): 'QUEUED' | 'SCHEDULED' {
  return delivery.dueInSeconds > 0 ? 'SCHEDULED' : 'QUEUED';
}

function jobsOf(deliveries: DeliveryRow[]): QueuedDelivery[] {
  return deliveries.map((d) => ({ deliveryId: d.id, startAfterSeconds: d.dueInSeconds }));
}

/** What the send events say of each delivery. */
function sentDeliveries(deliveries: DeliveryRow[]): Array<{ id: string; channel: OtpChannel; status: string }> {
  return deliveries.map((d) => ({ id: d.id, channel: d.channel, status: statusOf(d) }));
}

interface Issued {
  request: OtpRequestEntity;
  /** The channels this send queued at once (or would have, for a test recipient); a workflow's later steps come later. */
  channels: OtpChannel[];
  superseded: string[];
  delivered: boolean;
}

/**
 * Sends, resends and cancels OTPs: writes the request and queues one delivery per channel in one transaction. The
 * code is returned to nobody; it exists only as an HMAC (and sealed inside the queued deliveries).
 */
export class OtpSender {
  /** The driver's pool under `db`: the pipelined transaction is one multi-statement message, which TypeORM cannot send. */
  private readonly pool: Pool;

  constructor(private readonly db: DataSource, private readonly requests: OtpRequestRepository, private readonly deps: OtpSenderDeps) {
    this.pool = poolOf(db);
  }

  private get defaultPolicy(): OtpPolicy {
    const c = this.deps.config;
    return {
      validitySeconds: c.OTP_VALIDITY_SECONDS, maxAttempts: c.OTP_MAX_ATTEMPTS, maxResends: c.OTP_MAX_RESENDS,
      resendCooldownSeconds: c.OTP_RESEND_COOLDOWN_SECONDS, resendMode: c.OTP_RESEND_MODE,
    };
  }

  /**
   * One live OTP per purpose (API sends: recipient + source + sender; RULE sends: rule + record): in the same
   * transaction, and only after every rate limit accepted the send, a live OTP for the purpose is either sent again
   * (SAME_CODE_IF_VALID, when this is the same send again) or SUPERSEDED by the new one. A refused send changes nothing.
   */
  async send(ctx: RequestContext, command: SendOtpCommand, options: SendOptions = {}): Promise<OtpRequestEntity> {
    const { beforeIssue, ...overrides } = options;
    const policy = { ...this.defaultPolicy, ...overrides };
    const recipients = recipientsOf(command.channels, command.mobile, command.email);
    const testCode = recipients.map((r) => this.deps.config.OTP_TEST_RECIPIENTS.get(r)).find(Boolean) ?? null;
    const caller = callerKey(ctx);
    // screened before any limit is taken: a refused send changes nothing (test recipients are never paid for)
    const screened = testCode ? null : screenedSend(command.channels, command.mobile, command.email, command.source, command.ruleId, false);
    let issued: Issued;
    if (policy.resendMode === 'NEW_CODE' && !beforeIssue) {
      // one message: the screen's read first, then the limits, then the send with the screen's count; a failure gives everything back
      const check = screened ? await this.screen.screenStatement(ctx, screened) : null;
      try {
        issued = await this.issueOnce(() => this.issuePipelined(ctx, command, policy, testCode, caller, recipients, screened, check));
      } catch (error) {
        if (!(error instanceof ScreenLooksCloser)) throw error;
        await this.screen.screen(ctx, screened!); // refuses (nothing was written), or lets the send through
        issued = await this.issueOnce(() => this.issuePipelined(ctx, command, policy, testCode, caller, recipients, screened, null));
      }
    } else {
      if (screened) await this.screen.screen(ctx, screened);
      await this.deps.limits.consumeSend(caller, recipients);
      try {
        issued = await this.issueOnce(() => this.db.transaction((tx) => this.issueWithin(tx, ctx, command, policy, testCode, beforeIssue, screened)));
      } catch (error) {
        await this.deps.limits.refundSend(caller, recipients); // nothing was sent
        throw error;
      }
    }
    const { request, channels, superseded, delivered } = issued;
    if (delivered) this.countSent(channels);
    ctx.log.info({ otpRequestId: request.id, channels, source: request.source, testRecipient: request.testRecipient, superseded, sendCount: request.sendCount }, 'OTP sent');
    return request;
  }

  /** Sends a pending request again on the same (or fewer) channels: a new code, or the same one under SAME_CODE_IF_VALID. */
  async resend(ctx: RequestContext, current: OtpRequestEntity, channels?: OtpChannel[] | null): Promise<OtpRequestEntity> {
    assertPending(current, 'resent');
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
    const screened = current.testRecipient ? null : screenedSend(chosen, current.mobile, current.email, current.source, current.ruleId, true);
    if (screened) await this.screen.screen(ctx, screened);
    await this.deps.limits.consumeSend(caller, recipients);

    // a test recipient keeps its fixed code, but (like any NEW_CODE resend) gets a fresh validity
    const sameCode = current.resendMode === 'SAME_CODE_IF_VALID' || current.codeCallerSupplied ? this.currentCode(current) : null;
    const code = sameCode ?? (current.testRecipient ? this.currentCode(current) : null) ?? generateCode(current.codeLength, current.codeType);
    let updated: OtpRequestEntity | null;
    try {
      updated = await this.db.transaction(async (tx) => {
        const resent = await this.requests.with(tx).markResent(current.id, this.deps.hasher.hash(current.id, code), sameCode !== null);
        if (resent && screened) {
          await this.queueDeliveries(tx, resent, chosen, null, code);
          await this.updateScheduledSteps(tx, resent.id, chosen, code);
          await this.screen.sent(tx, ctx, screened, resent.id);
        }
        return resent;
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

  async cancel(current: OtpRequestEntity): Promise<OtpRequestEntity> {
    const [canceled] = await this.deps.events.withEvents(this.db, (tx) => this.requests.with(tx).cancel([current.id], 'CANCELED_BY_USER'), (rows) => rows.map((r) => otpCanceled(r.id, 'CANCELED_BY_USER')));
    if (canceled) return canceled;
    assertPending((await this.requests.findById(current.id))!, 'canceled');
    throw UserErrorException.of(ErrorCode.OTP_EXPIRED, 'Only a pending OTP can be canceled; this one has just expired.', ['otpRequestId']);
  }

  /**
   * Runs the purpose transaction (`run`); the unique indexes are the backstop of the advisory lock, so a collision is
   * retried once. A NEW_CODE send with no `beforeIssue` (every public send under the default policy) decides nothing on
   * what it reads, so its whole transaction, limits included, goes as one pipelined message; the others need an
   * interactive transaction.
   */
  private async issueOnce(run: () => Promise<Issued>): Promise<Issued> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run();
      } catch (error) {
        if (error instanceof PipelineError && error.stalePlan) {
          if (attempt < 2) continue; // another instance's migration changed a table under a prepared statement
          throw error.cause;
        }
        if (!isUniqueViolation(error)) throw error;
        if (attempt >= 2) {
          throw UserErrorException.of(ErrorCode.CONFLICT, 'Another OTP for the same purpose was being sent at the same moment; try again.');
        }
      }
    }
  }

  private async issueWithin(tx: Queryable, ctx: RequestContext, command: SendOtpCommand, policy: OtpPolicy, testCode: string | null,
    beforeIssue: SendOptions['beforeIssue'], screened: ScreenedSend | null): Promise<Issued> {
    const requests = this.requests.with(tx);
    const purpose = purposeOf(command, ctx.user.id);
    await requests.lockPurpose(purpose);
    if (beforeIssue) await beforeIssue(tx);
    const live = await requests.livePending(purpose);

    if (policy.resendMode === 'SAME_CODE_IF_VALID' && live.length === 1) {
      const again = this.sameSendAgain(live[0], command);
      if (again) {
        const issued = await this.sendAgainWithin(tx, live[0], command.channels, again);
        if (screened && issued.delivered) await this.screen.sent(tx, ctx, screened, issued.request.id);
        return issued;
      }
    }
    const superseded = live.map((request) => request.id);
    if (superseded.length) await requests.cancel(superseded, 'SUPERSEDED');
    if (superseded.length) await this.deps.events.publish(tx, superseded.map((id) => otpCanceled(id, 'SUPERSEDED')));
    const { row, code } = this.newRequest(ctx, command, policy, testCode);
    const request = await requests.insert(row);
    if (!testCode) await this.queueDeliveries(tx, request, command.channels, command.workflow, code);
    if (testCode) await this.deps.events.publish(tx, otpSentEvents(request, [])); // a test recipient: nothing queued
    if (screened) await this.screen.sent(tx, ctx, screened, request.id);
    return { request, channels: sentAtOnce(command), superseded, delivered: !testCode };
  }

  /**
   * The NEW_CODE send in one round trip ({@link runPipelined}): first, in a transaction of their own, the send screen's
   * check (`check`, when the screen gave one) and every rate limit of the send; then lock the purpose, settle an expired
   * live request, supersede the live ones, insert the request, its deliveries and their queue jobs — the statements
   * `issueWithin` runs one by one — with their events (the superseded ones' `otp.canceled` in the statement that cancels
   * them; `otp.sent` and the QUEUED `otp.delivery.updated` after the deliveries: the events feature's outbox
   * statements, their rows as SQL) and the send screen's count of the send (its `sentStatement`). A refusing limit or
   * check fails the first transaction and skips the rest: nothing is written. The limiter rows are locked only until
   * that first commit; if the send then fails, its points are given back.
   */
  private async issuePipelined(ctx: RequestContext, command: SendOtpCommand, policy: OtpPolicy, testCode: string | null,
    caller: SendCaller, recipients: string[], screened: ScreenedSend | null, check: Statement | null): Promise<Issued> {
    const { row, code } = this.newRequest(ctx, command, policy, testCode);
    const replaceLive = OtpRequestRepository.replaceLiveStatements(purposeOf(command, ctx.user.id), this.deps.events);
    const statements: Statement[] = [...replaceLive, OtpRequestRepository.insertStatement(row)];
    const deliveries = testCode ? [] : this.deliveryRows(command.channels, command.workflow, row.mobile, row.email);
    if (!testCode) {
      statements.push(this.deliveriesStatement(row.id, deliveries, code), await this.deps.queue.enqueueStatement(jobsOf(deliveries)));
    }
    // otp.sent (its expiry is the database's) and a QUEUED otp.delivery.updated per delivery, in the same message
    statements.push(this.deps.events.statement({
      rows: otpSentRowsSql({ id: '$1', deliveries: '$2', mobile: '$3', email: '$4' }),
      select: 'SELECT count(*)::int AS written FROM events_written',
      params: [row.id, JSON.stringify(sentDeliveries(deliveries)), ...maskedRecipients(row)],
    }));
    const screenWrite = screened ? await this.screen.sentStatement(ctx, screened, row.id) : null;
    if (screenWrite) statements.push(screenWrite.statement);
    let results: QueryResult[];
    try {
      results = await runPipelined(this.pool, {
        first: [...(check ? [check] : []), this.deps.limits.consumeSendStatement(caller, recipients)], then: statements,
        onError: this.deps.limits.refusalStatement(caller, recipients),
      });
    } catch (failure) {
      if (!(failure instanceof PipelineError)) throw failure;
      if (this.deps.limits.isRefusal(failure.cause)) throw this.deps.limits.refusalFrom(failure.onErrorRows, caller, recipients);
      // the screen's statement (first of all) asked for a closer look, or could not read: nothing was written or taken
      if (check && !failure.firstCommitted) throw new ScreenLooksCloser(failure.cause);
      if (failure.firstCommitted) await this.deps.limits.refundSend(caller, recipients); // nothing was sent
      if (failure.stalePlan) throw failure; // issueOnce sends it again, on a fresh connection
      throw failure.cause;
    }
    const superseded = results[replaceLive.length - 1].rows.map((r: { id: string }) => r.id); // the otp.canceled events' statement answers their ids
    const request = toOtpRequestEntity(results[replaceLive.length].rows[0]);
    screenWrite?.committed?.();
    return { request, channels: sentAtOnce(command), superseded, delivered: !testCode };
  }

  /** A new request's row and its code (the test recipient's, the caller's, or a generated one). */
  private newRequest(ctx: RequestContext, command: SendOtpCommand, policy: OtpPolicy, testCode: string | null): { row: NewOtpRequest; code: string } {
    const code = testCode ?? command.code ?? generateCode(command.codeLength, command.codeType);
    const id = randomUUID();
    const keepSealed = policy.resendMode === 'SAME_CODE_IF_VALID' || command.code !== null;
    const row: NewOtpRequest = {
      ...command, id, codeLength: testCode ? testCode.length : command.codeLength, codeType: testCode ? codeTypeOf(testCode) : command.codeType,
      codeHash: this.deps.hasher.hash(id, code), codeSealed: keepSealed ? this.deps.hasher.seal(code) : null,
      codeCallerSupplied: command.code !== null && !testCode, testRecipient: testCode !== null, validitySeconds: policy.validitySeconds,
      maxAttempts: policy.maxAttempts, maxResends: policy.maxResends, resendCooldownSeconds: policy.resendCooldownSeconds,
      resendMode: policy.resendMode, userId: ctx.user.id, apiKeyId: ctx.apiKeyId,
    };
    return { row, code };
  }

  /**
   * The live request's code when `command` is the same send again (same recipients and message, channels among the
   * live one's, the same caller code if any) and it may still be resent; null when a new OTP should replace it.
   */
  private sameSendAgain(live: OtpRequestEntity, command: SendOtpCommand): string | null {
    if (command.workflow) return null; // a workflow send always starts a new OTP (and its own steps)
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
    if (request.testRecipient) return [request.mobile, request.email].map((r) => r && this.deps.config.OTP_TEST_RECIPIENTS.get(r)).find(Boolean) ?? null;
    return request.codeSealed ? this.deps.hasher.unseal(request.codeSealed) : null;
  }

  /** Sends the live request's same code again inside the purpose transaction; the resend cooldown applies. */
  private async sendAgainWithin(tx: Queryable, live: OtpRequestEntity, channels: OtpChannel[], code: string): Promise<Issued> {
    const updated = await this.requests.with(tx).markResent(live.id, this.deps.hasher.hash(live.id, code), true);
    if (!updated) {
      const wait = Math.max(1, Math.ceil((live.lastSentAt.getTime() + live.resendCooldownSeconds * 1000 - Date.now()) / 1000));
      throw new RateLimitedException(wait, 'This OTP was sent moments ago; the same code stays valid.');
    }
    if (!live.testRecipient) {
      await this.queueDeliveries(tx, updated, channels, null, code);
      await this.updateScheduledSteps(tx, updated.id, channels, code);
    }
    return { request: updated, channels, superseded: [], delivered: !live.testRecipient };
  }

  private async queueDeliveries(tx: Queryable, request: OtpRequestEntity, channels: OtpChannel[], workflow: WorkflowStep[] | null, code: string): Promise<void> {
    const deliveries = this.deliveryRows(channels, workflow, request.mobile, request.email);
    const { sql, params } = this.deliveriesStatement(request.id, deliveries, code);
    await tx.query(sql, params);
    await this.deps.queue.enqueue(tx, jobsOf(deliveries));
    await this.deps.events.publish(tx, otpSentEvents(request, sentDeliveries(deliveries)));
  }

  /**
   * A resend in `tx` (its code `code`, sent now on `channels`): the OTP's workflow steps still SCHEDULED must not send
   * the old code. A step on a channel the resend just sent on is SKIPPED (it would repeat that message); the others
   * are sealed again with the resend's code and keep their time.
   */
  private async updateScheduledSteps(tx: Queryable, requestId: string, channels: OtpChannel[], code: string): Promise<void> {
    const rows = await queryRows(tx,
      `UPDATE otp_deliveries
          SET status = CASE WHEN channel = ANY($2::varchar[]) THEN 'SKIPPED' ELSE status END,
              code_sealed = CASE WHEN channel = ANY($2::varchar[]) THEN NULL ELSE $3 END,
              updated_at = now()
        WHERE otp_request_id = $1 AND status = 'SCHEDULED' RETURNING *`,
      [requestId, channels, this.deps.hasher.seal(code)]);
    const skipped = rows.filter((row) => row.status === 'SKIPPED');
    if (skipped.length) await this.deps.events.publish(tx, skipped.map((row) => otpDeliveryUpdated(row)));
  }

  /**
   * One delivery per channel (a workflow's: one per step, each due the sum of the waits so far), its id chosen here
   * so its queue job can be written in the same message.
   */
  private deliveryRows(channels: OtpChannel[], workflow: WorkflowStep[] | null, mobile: string | null, email: string | null): DeliveryRow[] {
    let due = 0;
    const steps = workflow ?? channels.map((channel) => ({ channel, waitSeconds: 0 }));
    return steps.map(({ channel, waitSeconds }, i) => {
      due += waitSeconds;
      return {
        id: randomUUID(), channel, recipient: (MOBILE_CHANNELS.includes(channel) ? mobile : email)!, provider: this.providerName(channel),
        step: workflow ? i : null, dueInSeconds: due,
      };
    });
  }

  /** The deliveries with the code sealed in each; a later workflow step SCHEDULED at its time (the database's clock, as its job's). */
  private deliveriesStatement(requestId: string, deliveries: DeliveryRow[], code: string): Statement {
    return {
      sql: `INSERT INTO otp_deliveries (id, otp_request_id, channel, recipient, provider, code_sealed, status, workflow_step, scheduled_at)
            SELECT c.id, $1, c.channel, c.recipient, c.provider, $2, CASE WHEN c.due > 0 THEN 'SCHEDULED' ELSE 'QUEUED' END, c.step,
                   CASE WHEN c.due > 0 THEN now() + make_interval(secs => c.due) END
              FROM jsonb_to_recordset($3::jsonb) AS c(id uuid, channel text, recipient text, provider text, step smallint, due int)`,
      params: [requestId, this.deps.hasher.seal(code), JSON.stringify(deliveries.map((d) => ({ ...d, due: d.dueInSeconds })))],
    };
  }

  /** Counted once the transaction that queued the messages has committed. */
  private countSent(channels: OtpChannel[]): void {
    for (const channel of channels) this.deps.metrics.otpSent.inc({ channel });
  }

  private get screen(): SendScreen {
    return this.deps.screens.current;
  }

  private providerName(channel: OtpChannel): string {
    const c = this.deps.config;
    return channel === 'EMAIL' ? c.EMAIL_PROVIDER : channel === 'SMS' ? c.SMS_PROVIDER : c.WHATSAPP_PROVIDER;
  }
}

/** The screen's statement in a pipelined send failed: the sender asks the screen itself (see SendScreen.screenStatement). */
class ScreenLooksCloser extends Error {
  constructor(override readonly cause: unknown) {
    super('the send screen asked for a closer look');
  }
}

function assertPending(request: OtpRequestEntity, verb: string): void {
  if (request.status === 'PENDING') return;
  const code = request.status === 'EXPIRED' ? ErrorCode.OTP_EXPIRED : request.status === 'MAX_ATTEMPTS_REACHED' ? ErrorCode.OTP_LOCKED : ErrorCode.INVALID;
  throw UserErrorException.of(code, `Only a pending OTP can be ${verb}; this one is ${request.status}.`, ['otpRequestId']);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  return value;
}

function screenedSend(channels: OtpChannel[], mobile: string | null, email: string | null, source: string, ruleId: number | null, resend: boolean): ScreenedSend {
  return { channels, mobile: channels.some((c) => MOBILE_CHANNELS.includes(c)) ? mobile : null, email: channels.includes('EMAIL') ? email : null, source, ruleId, resend };
}

/** The channels a send queues at once: all of them, or a workflow's first step. */
function sentAtOnce(command: SendOtpCommand): OtpChannel[] {
  return command.workflow ? [command.workflow[0].channel] : command.channels;
}

function recipientsOf(channels: OtpChannel[], mobile: string | null, email: string | null): string[] {
  const list: string[] = [];
  if (mobile && channels.some((c) => MOBILE_CHANNELS.includes(c))) list.push(mobile);
  if (email && channels.includes('EMAIL')) list.push(email);
  return list;
}

/** Who per-caller limits count against: the API key (or, for JWT callers, the user), the user, the client's address. */
function callerKey(ctx: RequestContext): SendCaller {
  return { apiKey: ctx.apiKeyId, userId: ctx.user.id, ip: ctx.clientIp ?? null };
}
