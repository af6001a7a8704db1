import type PgBoss from 'pg-boss';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Metrics } from '../../core/metrics';
import { queryRows } from '../../db/sql';
import type { EventPublisher } from '../../events/event-publisher';
import { otpDeliveryUpdated } from '../otp.events';
import type { CodeHasher } from '../codes';
import { toOtpDeliveryEntity } from '../otp-delivery.entity';
import type { OtpChannel } from '../otp-request.entity';
import { DEFAULT_TEMPLATE_IDS, toMessageTemplateEntity } from '../templates/message-template.entity';
import { renderHtml, renderText } from '../templates/render';
import type { DeliveryJob } from './delivery-queue';
import type { OutgoingMessage, ProviderSet } from './providers';
import { categorize, describeFailure, TemplateRenderError, type DeliveryErrorCategory } from './delivery-errors';
import { applyEarlyStatus } from './early-statuses';

export const INTERRUPTED = 'The server stopped during the provider call; the provider may or may not have sent the message, so it was not sent again.';

/** Delivers one queued message: renders it, calls the channel's provider, and records the outcome on the delivery. */
export class DeliveryWorker {
  constructor(
    private readonly db: DataSource,
    private readonly providers: ProviderSet,
    private readonly hasher: CodeHasher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly events: EventPublisher,
  ) {}

  async deliver(job: PgBoss.JobWithMetadata<DeliveryJob>): Promise<void> {
    const [row] = await this.db.query(
      `SELECT d.*, r.status AS request_status, r.expires_at AS request_expires_at, r.email_from_name, r.email_subject,
              r.email_template_id, r.email_template_attributes, r.validity_seconds, r.sms_template_id, r.whatsapp_template_id,
              r.message_variables
         FROM otp_deliveries d JOIN otp_requests r ON r.id = d.otp_request_id
        WHERE d.id = $1`,
      [job.data.deliveryId],
    );
    if (row?.status === 'SENDING') {
      // the job's previous run stopped during its provider call (a killed process): never call the provider twice
      await this.finish(row.id, 'FAILED', { error: INTERRUPTED, errorCategory: 'INTERRUPTED' });
      return;
    }
    if (!row || row.status !== 'QUEUED' || !row.code_sealed) return; // already handled, or the request is gone
    const delivery = toOtpDeliveryEntity(row);
    if (row.request_status !== 'PENDING' || row.request_expires_at.getTime() <= Date.now()) {
      await this.finish(delivery.id, 'FAILED', { error: 'The OTP request was no longer pending when its turn came.', errorCategory: 'REQUEST_CLOSED' });
      return;
    }
    const provider = this.providers.byChannel[delivery.channel];
    const end = this.metrics.otpDeliveryDuration.startTimer({ channel: delivery.channel, provider: provider.name });
    try {
      const message = await this.render(delivery.channel, delivery.recipient, this.hasher.unseal(delivery.codeSealed!), row);
      // recorded before the call, so a crash during it is known afterwards and the message is not sent again
      const [claimed] = await queryRows(this.db,
        `UPDATE otp_deliveries SET status = 'SENDING', updated_at = now() WHERE id = $1 AND status = 'QUEUED' RETURNING id`, [delivery.id]);
      if (!claimed) return;
      const { messageId } = await provider.send(message);
      await this.finish(delivery.id, 'SENT', { providerMessageId: messageId, provider: provider.name });
      // a status callback that beat us here was kept; apply it now that the id is known
      await applyEarlyStatus(this.db, provider.name, messageId)
        .catch((error) => this.log.warn({ err: error, deliveryId: delivery.id }, 'could not apply an early provider status'));
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
        await this.finish(delivery.id, 'FAILED', { error: reason, errorCategory, provider: provider.name });
        return;
      }
      await this.db.query(
        `UPDATE otp_deliveries SET status = 'QUEUED', attempts = attempts + 1, error = $2, error_category = $3, updated_at = now()
          WHERE id = $1 AND status IN ('QUEUED', 'SENDING')`,
        [delivery.id, reason, errorCategory]);
      throw error;
    }
  }

  /**
   * Settles deliveries left SENDING by a process that died during the provider call. A live call ends within the
   * provider timeout, so a SENDING row older than `graceMs` has no one working on it; whether the provider got the
   * message is unknown, and it is not sent again (a duplicate code is worse than a resend the user asks for).
   */
  async settleInterrupted(graceMs: number): Promise<number> {
    const rows = await queryRows(this.db,
      `UPDATE otp_deliveries
          SET status = 'FAILED', attempts = attempts + 1, code_sealed = NULL, error = $2, error_category = 'INTERRUPTED', failed_at = now(), updated_at = now()
        WHERE status = 'SENDING' AND updated_at < now() - make_interval(secs => $1::double precision / 1000) RETURNING id`,
      [graceMs, INTERRUPTED]);
    if (rows.length) this.log.warn({ deliveryIds: rows.map((r) => r.id as string) }, 'OTP deliveries interrupted during the provider call were marked FAILED');
    return rows.length;
  }

  private async finish(id: string, status: 'SENT' | 'FAILED',
    outcome: { providerMessageId?: string | null; provider?: string; error?: string; errorCategory?: DeliveryErrorCategory }): Promise<void> {
    await this.events.withEvents(this.db, (tx) => queryRows(tx,
      `UPDATE otp_deliveries
          SET status = $2::varchar, attempts = attempts + 1, code_sealed = NULL, updated_at = now(),
              provider = COALESCE($3::varchar, provider), provider_message_id = $4::varchar, error = $5::text, error_category = $6::varchar,
              sent_at = CASE WHEN $2::varchar = 'SENT' THEN now() ELSE sent_at END,
              failed_at = CASE WHEN $2::varchar = 'FAILED' THEN now() ELSE failed_at END
        WHERE id = $1 AND status IN ('QUEUED', 'SENDING') RETURNING *`,
      [id, status, outcome.provider ?? null, outcome.providerMessageId ?? null, outcome.error ?? null, outcome.errorCategory ?? null],
    ), (rows) => rows.map((row) => otpDeliveryUpdated(row)));
  }

  private async render(channel: OtpChannel, to: string, code: string, request: Record<string, any>): Promise<OutgoingMessage> {
    const chosen = { EMAIL: request.email_template_id, SMS: request.sms_template_id, WHATSAPP: request.whatsapp_template_id }[channel];
    const templateId: string = chosen ?? DEFAULT_TEMPLATE_IDS[channel];
    const [templateRow] = await this.db.query('SELECT * FROM message_templates WHERE id = $1', [templateId]);
    if (!templateRow) throw new TemplateRenderError(`The message template "${templateId}" no longer exists.`);
    const template = toMessageTemplateEntity(templateRow);
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
