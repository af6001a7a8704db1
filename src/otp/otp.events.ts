import type { DomainEvent } from '../events/event-types';
import type { OtpCancelReason, OtpRequestEntity } from './otp-request.entity';
import { maskEmail, maskMobile } from './recipients';

/**
 * The otp feature's domain events (docs/events.md). Payloads carry ids, statuses and masked recipients: never a code,
 * a code hash, a sealed code or a full recipient.
 */
export function otpSubject(otpRequestId: string): string {
  return `otp_request:${otpRequestId}`;
}

function requestData(request: OtpRequestEntity): Record<string, unknown> {
  return {
    otpRequestId: request.id, status: request.status, source: request.source, channels: request.channels, issuedBy: request.issuedBy,
    mobile: maskMobile(request.mobile), email: maskEmail(request.email), ruleId: request.ruleId, recordId: request.recordId,
    sendCount: request.sendCount, attempts: request.attempts, maxAttempts: request.maxAttempts,
    expiresAt: request.expiresAt, verifiedAt: request.verifiedAt, userId: request.userId,
  };
}

/**
 * `otp.sent` and one `otp.delivery.updated` per delivery written: QUEUED, or SCHEDULED for a workflow's later step
 * (`queuedChannels` names the QUEUED ones: those sent at once).
 */
export function otpSentEvents(request: OtpRequestEntity, deliveries: Array<{ id: string; channel: string; status: string }>): DomainEvent[] {
  const subject = otpSubject(request.id);
  return [
    { type: 'otp.sent', subject, data: { ...requestData(request), queuedChannels: deliveries.filter((d) => d.status === 'QUEUED').map((d) => d.channel) } },
    ...deliveries.map((d) => ({
      type: 'otp.delivery.updated' as const, subject, data: { otpRequestId: request.id, deliveryId: d.id, channel: d.channel, status: d.status },
    })),
  ];
}

/** `otp.delivery.updated` from an otp_deliveries row after its status moved (the provider's own word in `providerStatus`). */
export function otpDeliveryUpdated(row: Record<string, any>, providerStatus: string | null = null): DomainEvent {
  return {
    type: 'otp.delivery.updated', subject: otpSubject(row.otp_request_id),
    data: {
      otpRequestId: row.otp_request_id, deliveryId: row.id, channel: row.channel, status: row.status, provider: row.provider,
      providerMessageId: row.provider_message_id, providerStatus, errorCategory: row.error_category, attempts: row.attempts,
    },
  };
}

export function otpVerified(request: OtpRequestEntity): DomainEvent {
  return { type: 'otp.verified', subject: otpSubject(request.id), data: requestData(request) };
}

export function otpFailedAttempt(otpRequestId: string, attempts: number, maxAttempts: number): DomainEvent {
  return {
    type: 'otp.failed_attempt', subject: otpSubject(otpRequestId),
    data: { otpRequestId, attempts, maxAttempts, attemptsLeft: Math.max(0, maxAttempts - attempts), locked: attempts >= maxAttempts },
  };
}

export function otpCanceled(otpRequestId: string, reason: OtpCancelReason): DomainEvent {
  return { type: 'otp.canceled', subject: otpSubject(otpRequestId), data: { otpRequestId, status: 'CANCELED', reason } };
}

export function otpExpired(request: OtpRequestEntity): DomainEvent {
  return { type: 'otp.expired', subject: otpSubject(request.id), data: requestData(request) };
}

/*
 * The same events as rows of SQL, for changes whose ids or times only the database knows (superseded requests, an
 * expiry it computed, the deliveries a batch settled): each a SELECT yielding `type`, `subject`, `data` and `ord`, for
 * the events feature's outbox statement (`events.statement`). Payloads as above; recipients are masked in JS and come
 * in as parameters.
 */

/** A timestamptz as JSON.stringify writes a Date (UTC, milliseconds). */
function isoSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

function subjectSql(idColumn: string): string {
  return `'otp_request:' || ${idColumn}::text`;
}

/** {@link requestData} of the otp_requests row `r`; `mobile` and `email` are the placeholders of its masked recipients. */
function requestDataSql(r: string, mobile: string, email: string): string {
  return `jsonb_build_object('otpRequestId', ${r}.id, 'status', ${r}.status, 'source', ${r}.source, 'channels', to_jsonb(${r}.channels),
    'issuedBy', ${r}.issued_by, 'mobile', ${mobile}::text, 'email', ${email}::text, 'ruleId', ${r}.rule_id, 'recordId', ${r}.record_id,
    'sendCount', ${r}.send_count, 'attempts', ${r}.attempts, 'maxAttempts', ${r}.max_attempts,
    'expiresAt', ${isoSql(`${r}.expires_at`)}, 'verifiedAt', ${isoSql(`${r}.verified_at`)}, 'userId', ${r}.user_id)`;
}

/** The masked recipients of a request, as parameters for {@link requestDataSql}. */
export function maskedRecipients(request: { mobile: string | null; email: string | null }): [string | null, string | null] {
  return [maskMobile(request.mobile), maskEmail(request.email)];
}

/** {@link otpCanceled} for each row (with an `id`) of `from`. */
export function otpCanceledRowsSql(from: string, reason: OtpCancelReason): string {
  return `SELECT 'otp.canceled'::text AS type, ${subjectSql('c.id')} AS subject,
                 jsonb_build_object('otpRequestId', c.id, 'status', 'CANCELED', 'reason', '${reason}'::text) AS data, c.id::text AS ord
            FROM ${from} AS c`;
}

/**
 * {@link otpSentEvents} of the request `$id` as it now stands, its deliveries given as `$deliveries` (a JSON array of
 * `{ id, channel, status }`, in order); `$mobile`, `$email` its masked recipients.
 */
export function otpSentRowsSql(p: { id: string; deliveries: string; mobile: string; email: string }): string {
  return `SELECT 'otp.sent'::text AS type, ${subjectSql('r.id')} AS subject,
                 ${requestDataSql('r', p.mobile, p.email)} || jsonb_build_object('queuedChannels', COALESCE((SELECT jsonb_agg(q.value->'channel' ORDER BY q.n) FROM jsonb_array_elements(${p.deliveries}::jsonb) WITH ORDINALITY AS q(value, n) WHERE q.value->>'status' = 'QUEUED'), '[]'::jsonb)) AS data,
                 0::bigint AS ord
            FROM otp_requests AS r WHERE r.id = ${p.id}
          UNION ALL
          SELECT 'otp.delivery.updated', ${subjectSql(p.id)},
                 jsonb_build_object('otpRequestId', ${p.id}::text, 'deliveryId', d.value->>'id', 'channel', d.value->>'channel', 'status', d.value->>'status'), d.n
            FROM jsonb_array_elements(${p.deliveries}::jsonb) WITH ORDINALITY AS d(value, n)`;
}

/** {@link otpVerified} for each (verified) otp_requests row of `from`. */
export function otpVerifiedRowsSql(from: string, mobile: string, email: string): string {
  return `SELECT 'otp.verified'::text AS type, ${subjectSql('v.id')} AS subject, ${requestDataSql('v', mobile, email)} AS data, 0 AS ord FROM ${from} AS v`;
}

/** {@link otpFailedAttempt} for each row (`id`, `attempts`, `max_attempts`) of `from`. */
export function otpFailedAttemptRowsSql(from: string): string {
  return `SELECT 'otp.failed_attempt'::text AS type, ${subjectSql('f.id')} AS subject,
                 jsonb_build_object('otpRequestId', f.id, 'attempts', f.attempts, 'maxAttempts', f.max_attempts,
                   'attemptsLeft', GREATEST(0, f.max_attempts - f.attempts), 'locked', f.attempts >= f.max_attempts) AS data, 0 AS ord
            FROM ${from} AS f`;
}

/**
 * {@link otpDeliveryUpdated} for each otp_deliveries row of `from` whose status moved on (SENT, FAILED, DELIVERED,
 * SKIPPED: a retry left QUEUED is not an update); `providerStatus` is the SQL of the provider's own word (a column of
 * `d`), if any.
 */
export function otpDeliveryUpdatedRowsSql(from: string, providerStatus = 'NULL'): string {
  return `SELECT 'otp.delivery.updated'::text AS type, ${subjectSql('d.otp_request_id')} AS subject,
                 jsonb_build_object('otpRequestId', d.otp_request_id, 'deliveryId', d.id, 'channel', d.channel, 'status', d.status, 'provider', d.provider,
                   'providerMessageId', d.provider_message_id, 'providerStatus', ${providerStatus}, 'errorCategory', d.error_category, 'attempts', d.attempts) AS data,
                 d.id::text AS ord
            FROM ${from} AS d WHERE d.status IN ('SENT', 'FAILED', 'DELIVERED', 'SKIPPED')`;
}

/**
 * `otp.fallback`: a workflow's later step is going out (the OTP was still pending when it was due), for each row of
 * `from` (the claimed otp_deliveries rows of such steps). `fromChannel` is the step before it; no code, no recipient.
 */
export function otpFallbackRowsSql(from: string): string {
  return `SELECT 'otp.fallback'::text AS type, ${subjectSql('f.otp_request_id')} AS subject,
                 jsonb_build_object('otpRequestId', f.otp_request_id, 'deliveryId', f.id, 'step', f.workflow_step,
                   'fromChannel', (SELECT p.channel FROM otp_deliveries p WHERE p.otp_request_id = f.otp_request_id AND p.workflow_step = f.workflow_step - 1 LIMIT 1),
                   'toChannel', f.channel, 'scheduledAt', ${isoSql('f.scheduled_at')}) AS data,
                 f.id::text AS ord
            FROM ${from} AS f`;
}
