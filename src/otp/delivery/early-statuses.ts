import type { AppConfig } from '../../core/config';
import { queryRows, type Queryable } from '../../db/sql';
import type { EventPublisher } from '../../events/event-publisher';
import { otpDeliveryUpdatedRowsSql } from '../otp.events';

export type ProviderStatus = 'DELIVERED' | 'FAILED';
export type EarlyStatusBounds = Pick<AppConfig, 'OTP_EARLY_CALLBACK_TTL_SECONDS' | 'OTP_EARLY_CALLBACKS_MAX'>;

/** The change a final provider status makes to a SENT delivery (`status` and `error` are SQL expressions). */
const advance = (status: string, error: string) => `
  status = ${status}, error = COALESCE(${error}, error), updated_at = now(),
  error_category = CASE WHEN ${error} IS NULL THEN error_category ELSE 'UNDELIVERED' END,
  delivered_at = CASE WHEN ${status} = 'DELIVERED' THEN now() ELSE delivered_at END,
  failed_at = CASE WHEN ${status} = 'FAILED' THEN now() ELSE failed_at END`;

/**
 * Moves a SENT delivery forward; never backwards (a late "failed" after "delivered" is ignored). A status for a
 * message id no delivery carries yet — the provider called back before the worker recorded the id its send returned —
 * is kept (bounded in number and age) and applied when the id is recorded ({@link applyEarlyStatus}).
 */
export async function recordProviderStatus(db: Queryable, bounds: EarlyStatusBounds, provider: string, messageId: string,
  status: ProviderStatus, error: string | null, providerStatus: string | null = null): Promise<'applied' | 'kept' | 'ignored'> {
  const advanceSent = () => queryRows(db,
    `UPDATE otp_deliveries SET ${advance('$3::varchar', '$4::text')}
      WHERE provider = $1 AND provider_message_id = $2 AND status = 'SENT' RETURNING id`,
    [provider, messageId, status, error]);
  if ((await advanceSent()).length) return 'applied';
  await queryRows(db, 'DELETE FROM otp_early_provider_statuses WHERE expires_at <= now() RETURNING message_id');
  const kept = await queryRows(db,
    `INSERT INTO otp_early_provider_statuses (provider, message_id, status, error, provider_status, received_at, expires_at)
     SELECT $1::varchar, $2::varchar, $3::varchar, $4::text, left($7::text, 32), now(), now() + make_interval(secs => $5::double precision)
      WHERE NOT EXISTS (SELECT 1 FROM otp_deliveries WHERE provider = $1::varchar AND provider_message_id = $2::varchar)
        AND (SELECT count(*) FROM otp_early_provider_statuses) < $6::bigint
     ON CONFLICT (provider, message_id) DO NOTHING RETURNING message_id`,
    [provider, messageId, status, error, bounds.OTP_EARLY_CALLBACK_TTL_SECONDS, bounds.OTP_EARLY_CALLBACKS_MAX, providerStatus]);
  if (!kept.length) {
    // not kept: a delivery carries the id (the worker may have recorded it since our first UPDATE), the table is
    // full, or a status is already kept for this id; a second UPDATE settles the first case
    return (await advanceSent()).length ? 'applied' : 'ignored';
  }
  // the worker may have recorded the id between our UPDATE and our INSERT, and looked for early statuses before it
  return (await applyEarlyStatus(db, provider, messageId)) ? 'applied' : 'kept';
}

/**
 * Called once the worker has recorded a delivery SENT with the provider's message id: applies a status that came
 * first, if one is kept. Atomic (the kept row is deleted in the same statement), so it applies once even when the
 * worker and the callback both call it.
 */
export async function applyEarlyStatus(db: Queryable, provider: string, messageId: string | null): Promise<boolean> {
  if (!messageId) return false; // providers without message ids (log) get no callbacks
  const rows = await queryRows(db,
    `WITH early AS (
       DELETE FROM otp_early_provider_statuses e
        WHERE e.provider = $1::varchar AND e.message_id = $2::varchar AND e.expires_at > now()
          AND EXISTS (SELECT 1 FROM otp_deliveries d WHERE d.provider = $1::varchar AND d.provider_message_id = $2::varchar AND d.status = 'SENT')
       RETURNING e.status AS early_status, e.error AS early_error)
     UPDATE otp_deliveries SET ${advance('early.early_status', 'early.early_error')}
       FROM early WHERE provider = $1::varchar AND provider_message_id = $2::varchar AND status = 'SENT' RETURNING id`,
    [provider, messageId]);
  return rows.length > 0;
}

/**
 * {@link applyEarlyStatus} for a batch of deliveries the worker has just recorded SENT, in one statement (none when no
 * delivery has a message id), which also writes an `otp.delivery.updated` (with the provider's kept word) for each
 * delivery it moved forward; returns how many.
 */
export async function applyEarlyStatuses(db: Queryable, events: EventPublisher, sent: Array<{ provider: string; messageId: string }>): Promise<number> {
  if (!sent.length) return 0;
  const { sql, params } = events.statement({
    with: `wanted AS (
       SELECT w.provider, w.message_id FROM jsonb_to_recordset($1::jsonb) AS w(provider varchar, message_id varchar)
     ), early AS (
       DELETE FROM otp_early_provider_statuses e USING wanted w
        WHERE e.provider = w.provider AND e.message_id = w.message_id AND e.expires_at > now()
          AND EXISTS (SELECT 1 FROM otp_deliveries d WHERE d.provider = e.provider AND d.provider_message_id = e.message_id AND d.status = 'SENT')
       RETURNING e.provider AS early_provider, e.message_id AS early_message_id, e.status AS early_status, e.error AS early_error,
                 e.provider_status AS early_provider_status
     ), applied AS (
       UPDATE otp_deliveries SET ${advance('early.early_status', 'early.early_error')}
         FROM early WHERE provider = early.early_provider AND provider_message_id = early.early_message_id AND status = 'SENT'
       RETURNING otp_deliveries.*, early.early_provider_status)`,
    rows: otpDeliveryUpdatedRowsSql('applied', 'd.early_provider_status'),
    select: 'SELECT id FROM applied',
    params: [JSON.stringify(sent.map((s) => ({ provider: s.provider, message_id: s.messageId })))],
  });
  return (await queryRows(db, sql, params)).length;
}
