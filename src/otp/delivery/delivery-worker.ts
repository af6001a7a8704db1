import type PgBoss from 'pg-boss';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Metrics } from '../../core/metrics';
import { queryRows } from '../../db/sql';
import type { EventPublisher } from '../../events/event-publisher';
import { otpDeliveryUpdatedRowsSql, otpFallbackRowsSql } from '../otp.events';
import type { CodeHasher } from '../codes';
import { toOtpDeliveryEntity, type OtpDeliveryEntity } from '../otp-delivery.entity';
import type { OtpChannel } from '../otp-request.entity';
import { DEFAULT_TEMPLATE_IDS, toMessageTemplateEntity, type MessageTemplateEntity } from '../templates/message-template.entity';
import { renderHtml, renderText } from '../templates/render';
import type { BatchOutcome, DeliveryJob } from './delivery-queue';
import type { OutgoingMessage, ProviderSet } from './providers';
import { categorize, describeFailure, TemplateRenderError, type DeliveryErrorCategory } from './delivery-errors';
import { applyEarlyStatuses } from './early-statuses';
import type { DeliveryQueue } from './delivery-queue';
import { bringNextStepsForward } from './workflow-steps';

/** The outcome of one delivery attempt, settled with the rest of its batch. */
interface Settlement {
  id: string;
  status: 'SENT' | 'FAILED' | 'QUEUED' | 'SKIPPED';
  providerMessageId?: string | null;
  provider?: string;
  error?: string;
  errorCategory?: DeliveryErrorCategory;
}

/** The template a delivery row (joined with its request) is rendered with. */
function templateIdOf(row: Record<string, any>): string {
  const channel = row.channel as OtpChannel;
  const chosen = { EMAIL: row.email_template_id, SMS: row.sms_template_id, WHATSAPP: row.whatsapp_template_id }[channel];
  return chosen ?? DEFAULT_TEMPLATE_IDS[channel];
}

/** Why a workflow step was not sent (operators' words; clients see REQUEST_CLOSED). */
const STEP_NOT_DUE = 'The OTP was no longer pending (verified, canceled, superseded, expired or locked) when this workflow step was due.';

const REQUEST_CLOSED = 'The OTP request was no longer pending when its turn came.';

export const INTERRUPTED = 'The server stopped during the provider call; the provider may or may not have sent the message, so it was not sent again.';

/** Delivers queued messages in batches: renders them, calls the channels' providers, and records the outcomes on the deliveries. */
export class DeliveryWorker {
  constructor(
    private readonly db: DataSource,
    private readonly providers: ProviderSet,
    private readonly hasher: CodeHasher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly events: EventPublisher,
    /** Where a failed workflow step's next step is queued at once. */
    private readonly queue: DeliveryQueue,
  ) {}

  /**
   * Delivers a batch of queued messages in a fixed number of round trips whatever its size: one read of the deliveries
   * with their requests, one of their templates, one claim (SENDING, recorded before the calls, so a crash during them
   * is known afterwards and no message is sent twice), the provider calls side by side, and one statement settling
   * every outcome. Jobs to retry are returned; the queue fails them (pg-boss retries with backoff) and completes the rest.
   */
  async deliverBatch(jobs: Array<PgBoss.JobWithMetadata<DeliveryJob>>): Promise<BatchOutcome> {
    const jobOf = new Map(jobs.map((job) => [job.data.deliveryId, job]));
    const rows = await queryRows(this.db,
      `SELECT d.*, r.status AS request_status, r.expires_at AS request_expires_at, r.email_from_name, r.email_subject,
              r.email_template_id, r.email_template_attributes, r.validity_seconds, r.sms_template_id, r.whatsapp_template_id,
              r.message_variables
         FROM otp_deliveries d JOIN otp_requests r ON r.id = d.otp_request_id
        WHERE d.id = ANY($1::uuid[])`,
      [[...jobOf.keys()]]);
    const settled: Settlement[] = [];
    const ready: Array<{ row: Record<string, any>; job: PgBoss.JobWithMetadata<DeliveryJob> }> = [];
    for (const row of rows) {
      if (row.status === 'SENDING') {
        // the job's previous run stopped during its provider call (a killed process): never call the provider twice
        settled.push({ id: row.id, status: 'FAILED', error: INTERRUPTED, errorCategory: 'INTERRUPTED' });
      } else if (!['QUEUED', 'SCHEDULED'].includes(row.status) || !row.code_sealed) {
        // already handled, or the request is gone
      } else if (row.request_status !== 'PENDING' || row.request_expires_at.getTime() <= Date.now()) {
        // a closed request never reopens, so this read is enough to decide; a workflow step is then never sent
        settled.push(row.status === 'SCHEDULED'
          ? { id: row.id, status: 'SKIPPED', error: STEP_NOT_DUE, errorCategory: 'REQUEST_CLOSED' }
          : { id: row.id, status: 'FAILED', error: REQUEST_CLOSED, errorCategory: 'REQUEST_CLOSED' });
      } else {
        ready.push({ row, job: jobOf.get(row.id)! });
      }
    }
    const templates = await this.templates(ready.map(({ row }) => templateIdOf(row)));
    const messages: Array<{ delivery: OtpDeliveryEntity; row: Record<string, any>; job: PgBoss.JobWithMetadata<DeliveryJob>; message: OutgoingMessage | null; failure: unknown }> = [];
    for (const { row, job } of ready) {
      const delivery = toOtpDeliveryEntity(row);
      try {
        messages.push({ delivery, row, job, message: this.render(delivery.channel, delivery.recipient, this.hasher.unseal(delivery.codeSealed!), row, templates), failure: null });
      } catch (error) {
        messages.push({ delivery, row, job, message: null, failure: error });
      }
    }
    const claimed = await this.claim(messages.filter((m) => m.message).map((m) => m.delivery));
    for (const m of messages) {
      const sealed = claimed.get(m.delivery.id);
      // a resend sealed a new code into this workflow step after it was read: the message carries that one
      if (m.message && sealed && sealed !== m.delivery.codeSealed) {
        try {
          m.message = this.render(m.delivery.channel, m.delivery.recipient, this.hasher.unseal(sealed), m.row, templates);
        } catch (error) {
          m.message = null;
          m.failure = error;
        }
      }
    }
    const retry: BatchOutcome['retry'] = [];
    await Promise.all(messages.map(async ({ delivery, job, message, failure }) => {
      if (message && !claimed.has(delivery.id)) return;
      if (claimed.has(delivery.id) && delivery.status === 'SCHEDULED') this.metrics.otpSent.inc({ channel: delivery.channel });
      const provider = this.providers.byChannel[delivery.channel];
      const end = this.metrics.otpDeliveryDuration.startTimer({ channel: delivery.channel, provider: provider.name });
      try {
        if (!message) throw failure;
        const { messageId } = await provider.send(message);
        settled.push({ id: delivery.id, status: 'SENT', providerMessageId: messageId, provider: provider.name });
        end({ outcome: 'sent' });
      } catch (error) {
        const final = job.retryCount >= job.retryLimit;
        const reason = describeFailure(error);
        const errorCategory = categorize(error);
        end({ outcome: final ? 'failed' : 'retry' });
        // the full reason (addresses, provider answers) goes to the log and the error column; clients see the category
        const detail = (error as { cause?: { message?: unknown } } | null)?.cause?.message;
        this.log.warn({ deliveryId: delivery.id, channel: delivery.channel, provider: provider.name, attempt: job.retryCount + 1, final, reason, errorCategory,
          ...(typeof detail === 'string' ? { detail } : {}) }, 'OTP delivery attempt failed');
        if (final) {
          settled.push({ id: delivery.id, status: 'FAILED', error: reason, errorCategory, provider: provider.name });
        } else {
          settled.push({ id: delivery.id, status: 'QUEUED', error: reason, errorCategory });
          retry.push({ jobId: job.id, reason });
        }
      }
    }));
    await this.settle(settled);
    // a workflow step failed for good: its next step need not wait (best effort: if this fails, the step keeps its time)
    const stepOf = new Map(rows.map((row) => [row.id as string, row.workflow_step as number | null]));
    const failedSteps = settled.filter((o) => o.status === 'FAILED' && stepOf.get(o.id) != null).map((o) => o.id);
    if (failedSteps.length) {
      await this.db.transaction((tx) => bringNextStepsForward(tx, this.queue, failedSteps))
        .catch((error) => this.log.warn({ err: error, deliveryIds: failedSteps }, 'could not bring the next workflow steps forward'));
    }
    // a status callback that beat us here was kept; apply it now that the ids are known (one statement for the batch)
    const sent = settled.filter((o) => o.status === 'SENT' && o.providerMessageId && o.provider)
      .map((o) => ({ provider: o.provider!, messageId: o.providerMessageId! }));
    await applyEarlyStatuses(this.db, this.events, sent)
      .catch((error) => this.log.warn({ err: error, deliveryIds: settled.filter((o) => o.status === 'SENT').map((o) => o.id) }, 'could not apply early provider statuses'));
    return { retry };
  }

  /**
   * Marks the batch's renderable deliveries SENDING, in one statement, only while their OTP is still PENDING and not
   * expired: the statement locks those requests FOR SHARE, so a verify, cancel, supersede or resend of one of them
   * either committed before (the delivery is not claimed: a workflow step becomes SKIPPED here) or waits until the claim
   * committed — never both a verify and a step sent after it. A workflow step that goes out (SCHEDULED → SENDING)
   * writes `otp.fallback` in the same statement; a delivery whose OTP closed after it was read ends here too (a step
   * SKIPPED, a plain delivery FAILED, as when the read already saw it closed), with its `otp.delivery.updated`.
   * Answers the claimed ids with the sealed code each holds now.
   */
  private async claim(deliveries: OtpDeliveryEntity[]): Promise<Map<string, string>> {
    if (!deliveries.length) return new Map();
    const { sql, params } = this.events.statement({
      with: `live AS (SELECT r.id FROM otp_requests r WHERE r.id = ANY($2::uuid[]) AND r.status = 'PENDING' AND r.expires_at > now() ORDER BY r.id FOR SHARE),
       before AS (SELECT id, status FROM otp_deliveries WHERE id = ANY($1::uuid[])),
       claimed AS (
         UPDATE otp_deliveries d SET status = 'SENDING', updated_at = now()
          WHERE d.id = ANY($1::uuid[]) AND d.status IN ('QUEUED', 'SCHEDULED') AND d.otp_request_id IN (SELECT id FROM live) RETURNING d.*),
       stepped AS (SELECT c.* FROM claimed c JOIN before b ON b.id = c.id WHERE b.status = 'SCHEDULED'),
       closed AS (
         UPDATE otp_deliveries d
            SET status = CASE WHEN d.status = 'SCHEDULED' THEN 'SKIPPED' ELSE 'FAILED' END, code_sealed = NULL,
                error = CASE WHEN d.status = 'SCHEDULED' THEN $3 ELSE $4 END, error_category = 'REQUEST_CLOSED',
                attempts = d.attempts + CASE WHEN d.status = 'SCHEDULED' THEN 0 ELSE 1 END,
                failed_at = CASE WHEN d.status = 'SCHEDULED' THEN d.failed_at ELSE now() END, updated_at = now()
          WHERE d.id = ANY($1::uuid[]) AND d.status IN ('QUEUED', 'SCHEDULED') AND d.otp_request_id NOT IN (SELECT id FROM live) RETURNING d.*)`,
      rows: `${otpFallbackRowsSql('stepped')} UNION ALL ${otpDeliveryUpdatedRowsSql('closed')}`,
      select: 'SELECT id, code_sealed FROM claimed',
      params: [deliveries.map((d) => d.id), [...new Set(deliveries.map((d) => d.otpRequestId))], STEP_NOT_DUE, REQUEST_CLOSED],
    });
    const rows = await queryRows(this.db, sql, params);
    return new Map(rows.map((r) => [r.id as string, r.code_sealed as string]));
  }

  /**
   * Settles deliveries left SENDING by a process that died during the provider call. A live call ends within the
   * provider timeout, so a SENDING row older than `graceMs` has no one working on it; whether the provider got the
   * message is unknown, and it is not sent again (a duplicate code is worse than a resend the user asks for).
   */
  async settleInterrupted(graceMs: number): Promise<number> {
    // the same statement writes each one's otp.delivery.updated (FAILED, errorCategory INTERRUPTED)
    const { sql, params } = this.events.statement({
      with: `interrupted AS (
        UPDATE otp_deliveries
           SET status = 'FAILED', attempts = attempts + 1, code_sealed = NULL, error = $2, error_category = 'INTERRUPTED', failed_at = now(), updated_at = now()
         WHERE status = 'SENDING' AND updated_at < now() - make_interval(secs => $1::double precision / 1000) RETURNING *)`,
      rows: otpDeliveryUpdatedRowsSql('interrupted'),
      select: 'SELECT id FROM interrupted',
      params: [graceMs, INTERRUPTED],
    });
    const rows = await queryRows(this.db, sql, params);
    if (rows.length) this.log.warn({ deliveryIds: rows.map((r) => r.id as string) }, 'OTP deliveries interrupted during the provider call were marked FAILED');
    return rows.length;
  }

  /**
   * Every outcome of a batch in one statement: SENT and FAILED are final (the sealed code erased); QUEUED is an attempt
   * to retry (counted, its reason kept). Only a delivery still QUEUED or SENDING changes. The same statement writes an
   * `otp.delivery.updated` for each SENT or FAILED one (the events feature's outbox statement), so the events exist
   * exactly when the outcomes do.
   */
  private async settle(outcomes: Settlement[]): Promise<void> {
    if (!outcomes.length) return;
    const { sql, params } = this.events.statement({
      with: `settled AS (
       UPDATE otp_deliveries d
          SET status = o.status, attempts = d.attempts + CASE WHEN o.status = 'SKIPPED' THEN 0 ELSE 1 END, updated_at = now(),
              code_sealed = CASE WHEN o.status = 'QUEUED' THEN d.code_sealed END,
              provider = COALESCE(o.provider, d.provider), provider_message_id = CASE WHEN o.status = 'QUEUED' THEN d.provider_message_id ELSE o.provider_message_id END,
              error = o.error, error_category = o.error_category,
              sent_at = CASE WHEN o.status = 'SENT' THEN now() ELSE d.sent_at END,
              failed_at = CASE WHEN o.status = 'FAILED' THEN now() ELSE d.failed_at END
         FROM jsonb_to_recordset($1::jsonb) AS o(id uuid, status varchar, provider varchar, provider_message_id varchar, error text, error_category varchar)
        WHERE d.id = o.id AND d.status IN ('QUEUED', 'SENDING', 'SCHEDULED') RETURNING d.*)`,
      rows: otpDeliveryUpdatedRowsSql('settled'), // SENT, FAILED and SKIPPED only: a retry stays QUEUED and is not an update
      select: 'SELECT id FROM settled',
      params: [JSON.stringify(outcomes.map((o) => ({
        id: o.id, status: o.status, provider: o.provider ?? null, provider_message_id: o.providerMessageId ?? null, error: o.error ?? null, error_category: o.errorCategory ?? null,
      })))],
    });
    await queryRows(this.db, sql, params);
  }

  /** The batch's templates, read in one statement. */
  private async templates(ids: string[]): Promise<Map<string, MessageTemplateEntity>> {
    const unique = [...new Set(ids)];
    if (!unique.length) return new Map();
    const rows = await queryRows(this.db, 'SELECT * FROM message_templates WHERE id = ANY($1::varchar[])', [unique]);
    return new Map(rows.map((row) => [row.id as string, toMessageTemplateEntity(row)]));
  }

  private render(channel: OtpChannel, to: string, code: string, request: Record<string, any>, templates: Map<string, MessageTemplateEntity>): OutgoingMessage {
    const templateId = templateIdOf(request);
    const template = templates.get(templateId);
    if (!template) throw new TemplateRenderError(`The message template "${templateId}" no longer exists.`);
    const variables = { ...(request.message_variables ?? {}), ...(request.email_template_attributes ?? {}), otp: code, expiresInMinutes: String(Math.ceil(request.validity_seconds / 60)) };
    const subject = request.email_subject ?? template.subject;
    try {
      return {
        channel,
        to,
        code,
        templateId,
        text: renderText(template.body, variables),
        subject: subject ? renderText(subject, variables) : undefined,
        html: template.htmlBody ? renderHtml(template.htmlBody, variables) : null,
        fromName: request.email_from_name,
      };
    } catch (error) {
      throw new TemplateRenderError(`The message template "${templateId}" could not be rendered: ${(error as Error).message}`);
    }
  }
}
