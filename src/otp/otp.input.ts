import type { SendOtpInput, VerifyOtpInput } from './otp.types';

/** GraphQL inputs in the partner's snake_case shape, so one validator serves GraphQL and REST. */
export function sendInputToPartnerShape(input: SendOtpInput): Record<string, unknown> {
  return {
    mobile_no: input.mobileNo, country_code: input.countryCode, email: input.email, email_from_name: input.emailFromName,
    email_subject: input.emailSubject, email_template_id: input.emailTemplateId, email_template_attributes: input.emailTemplateAttributes,
    channel: input.channels, source: input.source, type: input.type, otp_code_length: input.otpCodeLength,
    otp_code_type: input.otpCodeType, otp_code: input.otpCode, rule_id: input.ruleId, record_id: input.recordId,
  };
}

export function verifyInputToPartnerShape(input: VerifyOtpInput): Record<string, unknown> {
  return {
    otp_request_id: input.otpRequestId, mobile_no: input.mobileNo, country_code: input.countryCode, email: input.email,
    source: input.source, code: input.code,
  };
}
