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

/** `otp.sent` and one `otp.delivery.updated` (QUEUED) per queued delivery. */
export function otpSentEvents(request: OtpRequestEntity, channels: string[], deliveryIds: string[]): DomainEvent[] {
  const subject = otpSubject(request.id);
  return [
    { type: 'otp.sent', subject, data: { ...requestData(request), queuedChannels: channels } },
    ...deliveryIds.map((deliveryId, i) => ({
      type: 'otp.delivery.updated' as const, subject, data: { otpRequestId: request.id, deliveryId, channel: channels[i], status: 'QUEUED' },
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
