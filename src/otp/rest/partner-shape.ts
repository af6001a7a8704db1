import type { OtpDeliveryEntity } from '../otp-delivery.entity';
import type { OtpRequestEntity } from '../otp-request.entity';
import type { CancelOtpRequest, FieldError, RequestField, ResendOtpRequest, SendOtpRequest, VerifyOtpRequest } from '../otp.validation';
import { maskEmail, maskMobile } from '../recipients';

/** The partner's snake_case keys of each request field (its `channel` takes one channel or `sms|email`). */
const SEND_KEYS: Record<keyof SendOtpRequest, string> = {
  mobileNo: 'mobile_no', countryCode: 'country_code', email: 'email', emailFromName: 'email_from_name', emailSubject: 'email_subject',
  emailTemplateId: 'email_template_id', emailTemplateAttributes: 'email_template_attributes', channels: 'channel', source: 'source',
  type: 'type', otpCodeLength: 'otp_code_length', otpCodeType: 'otp_code_type', otpCode: 'otp_code', ruleId: 'rule_id', recordId: 'record_id',
  workflow: 'workflow',
};

/** The partner's keys of a workflow step (`workflow: [{"channel": "whatsapp"}, {"channel": "sms", "wait_seconds": 30}]`). */
export const WORKFLOW_STEP_KEYS = { channel: 'channel', waitSeconds: 'wait_seconds' } as const;

const VERIFY_KEYS: Record<keyof VerifyOtpRequest, string> = {
  otpRequestId: 'otp_request_id', mobileNo: 'mobile_no', countryCode: 'country_code', email: 'email', source: 'source', code: 'code',
};

export const RESEND_KEYS: Record<keyof ResendOtpRequest, string> = { otpRequestId: 'otp_request_id', channels: 'channel' };

export const CANCEL_KEYS: Record<keyof CancelOtpRequest, string> = { otpRequestId: 'otp_request_id' };

const PARTNER_KEYS: Record<RequestField, string> = { ...SEND_KEYS, ...VERIFY_KEYS };

export { SEND_KEYS, VERIFY_KEYS };

/** A partner send-otp body as the neutral request; keys the partner contract does not have are ignored. */
export function sendRequestFrom(body: Record<string, unknown>): SendOtpRequest {
  const request: SendOtpRequest = fromPartner(body, SEND_KEYS);
  // each step's snake_case keys too; anything that is not a list of objects goes on as it is, for the validator to name
  if (Array.isArray(request.workflow)) {
    request.workflow = request.workflow.map((step: unknown) => (step && typeof step === 'object' && !Array.isArray(step)
      ? fromPartner(step as Record<string, unknown>, WORKFLOW_STEP_KEYS) : step));
  }
  return request;
}

/** A partner verify-otp body as the neutral request. */
export function verifyRequestFrom(body: Record<string, unknown>): VerifyOtpRequest {
  return fromPartner(body, VERIFY_KEYS);
}

/** A partner resend-otp body as the neutral request. */
export function resendRequestFrom(body: Record<string, unknown>): ResendOtpRequest {
  return fromPartner(body, RESEND_KEYS);
}

/** A partner cancel-otp body as the neutral request. */
export function cancelRequestFrom(body: Record<string, unknown>): CancelOtpRequest {
  return fromPartner(body, CANCEL_KEYS);
}

/** Channels as the partner writes them: lower case. */
export function partnerChannels(request: OtpRequestEntity): string[] {
  return request.channels.map((c) => c.toLowerCase());
}

/** GET /api/otp/{id}'s `data`: status, masked recipients and per-channel delivery; never the code or its hash. */
export function partnerOtpRequest(request: OtpRequestEntity, deliveries: OtpDeliveryEntity[]): Record<string, unknown> {
  return {
    otp_request_id: request.id,
    status: request.status,
    cancel_reason: request.cancelReason,
    channels: partnerChannels(request),
    masked_mobile_no: maskMobile(request.mobile),
    masked_email: maskEmail(request.email),
    source: request.source,
    type: request.type,
    code_length: request.codeLength,
    code_type: request.codeType,
    attempts: request.attempts,
    max_attempts: request.maxAttempts,
    send_count: request.sendCount,
    expires_at: request.expiresAt.toISOString(),
    created_at: request.createdAt.toISOString(),
    verified_at: request.verifiedAt?.toISOString() ?? null,
    deliveries: deliveries.map((d) => ({
      channel: d.channel.toLowerCase(),
      status: d.status,
      provider: d.provider,
      provider_message_id: d.providerMessageId,
      attempts: d.attempts,
      error: d.error,
      error_category: d.errorCategory,
      created_at: d.createdAt.toISOString(),
      sent_at: d.sentAt?.toISOString() ?? null,
      delivered_at: d.deliveredAt?.toISOString() ?? null,
      failed_at: d.failedAt?.toISOString() ?? null,
      workflow_step: d.workflowStep,
      scheduled_at: d.scheduledAt?.toISOString() ?? null,
    })),
  };
}

/** The 422 `errors` map: partner keys (`otp_code_length`, `email_template_attributes.name`) to their messages. */
export function partnerErrors(fieldErrors: FieldError[]): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const e of fieldErrors) {
    const [head, ...rest] = e.field;
    // a workflow step's field: workflow.<index>.<partner key>
    const inner = head === 'workflow' ? rest.map((part, i) => (i === 1 ? WORKFLOW_STEP_KEYS[part as keyof typeof WORKFLOW_STEP_KEYS] ?? part : part)) : rest;
    const key = [PARTNER_KEYS[head as RequestField] ?? head, ...inner].join('.');
    (errors[key] ??= []).push(e.message);
  }
  return errors;
}

function fromPartner<F extends string>(body: Record<string, unknown>, keys: Record<F, string>): Partial<Record<F, unknown>> {
  const request: Partial<Record<F, unknown>> = {};
  for (const [field, key] of Object.entries(keys) as Array<[F, string]>) {
    if (Object.hasOwn(body, key)) request[field] = body[key];
  }
  return request;
}
