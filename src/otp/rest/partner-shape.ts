import type { FieldError, RequestField, SendOtpRequest, VerifyOtpRequest } from '../otp.validation';

/** The partner's snake_case keys of each request field (its `channel` takes one channel or `sms|email`). */
const SEND_KEYS: Record<keyof SendOtpRequest, string> = {
  mobileNo: 'mobile_no', countryCode: 'country_code', email: 'email', emailFromName: 'email_from_name', emailSubject: 'email_subject',
  emailTemplateId: 'email_template_id', emailTemplateAttributes: 'email_template_attributes', channels: 'channel', source: 'source',
  type: 'type', otpCodeLength: 'otp_code_length', otpCodeType: 'otp_code_type', otpCode: 'otp_code', ruleId: 'rule_id', recordId: 'record_id',
};

const VERIFY_KEYS: Record<keyof VerifyOtpRequest, string> = {
  otpRequestId: 'otp_request_id', mobileNo: 'mobile_no', countryCode: 'country_code', email: 'email', source: 'source', code: 'code',
};

const PARTNER_KEYS: Record<RequestField, string> = { ...SEND_KEYS, ...VERIFY_KEYS };

/** A partner send-otp body as the neutral request; keys the partner contract does not have are ignored. */
export function sendRequestFrom(body: Record<string, unknown>): SendOtpRequest {
  return fromPartner(body, SEND_KEYS);
}

/** A partner verify-otp body as the neutral request. */
export function verifyRequestFrom(body: Record<string, unknown>): VerifyOtpRequest {
  return fromPartner(body, VERIFY_KEYS);
}

/** The 422 `errors` map: partner keys (`otp_code_length`, `email_template_attributes.name`) to their messages. */
export function partnerErrors(fieldErrors: FieldError[]): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const e of fieldErrors) {
    const [head, ...rest] = e.field;
    const key = [PARTNER_KEYS[head as RequestField] ?? head, ...rest].join('.');
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
