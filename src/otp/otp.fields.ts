import type { OtpChannel, OtpCodeType } from './otp-request.entity';

/**
 * What each field of an OTP request may hold, said once: the validator (otp.validation.ts) checks every value against
 * these rules, and the REST door's OpenAPI document (rest/openapi.ts) is derived from them, so the two cannot drift.
 * Conditional requirements ("required when channel is email") are the validator's; each field's description says them.
 */
export type FieldRule =
  | { kind: 'text'; maxLength: number; pattern?: string }
  | { kind: 'integer'; minimum: number; maximum: number }
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'uuid' }
  | { kind: 'mobile'; minDigits: number; maxDigits: number }
  | { kind: 'countryCode'; maxDigits: number }
  | { kind: 'email'; maxLength: number }
  | { kind: 'channels' }
  | { kind: 'code'; minLength: number; maxLength: number }
  | { kind: 'attributes'; maxProperties: number; maxLength: number }
  | { kind: 'workflow'; maxSteps: number; maxWaitSeconds: number };

export interface FieldSpec {
  rule: FieldRule;
  /** Always required (conditional requirements are in the description). */
  required?: true;
  /** Exactly one field of this group must be given (`channels` or `workflow`). */
  oneOf?: string;
  description: string;
  example?: unknown;
}

export const CHANNELS: OtpChannel[] = ['SMS', 'WHATSAPP', 'EMAIL'];
export const CODE_TYPES: OtpCodeType[] = ['NUMERIC', 'ALPHABETIC', 'ALPHANUMERIC'];
export const OTP_TYPES = ['simple_otp'];
export const MIN_CODE_LENGTH = 4;
export const MAX_CODE_LENGTH = 10;
/** The largest id Postgres' integer holds. */
export const MAX_INTEGER = 2_147_483_647;
/** Channel fallback: at most this many steps, each later one at most this long after the one before it. */
export const MAX_WORKFLOW_STEPS = 3;
export const MAX_WORKFLOW_WAIT_SECONDS = 600;
export const SOURCE_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';

const mobileNo = { rule: { kind: 'mobile', minDigits: 8, maxDigits: 10 }, description: '8-10 digits, without the country code.', example: '7977251637' } satisfies FieldSpec;
const countryCode = { rule: { kind: 'countryCode', maxDigits: 3 }, description: '1-3 digits (a leading + is allowed); default DEFAULT_COUNTRY_CODE.', example: '91' } satisfies FieldSpec;
const email = { rule: { kind: 'email', maxLength: 254 }, description: 'An email address.', example: 'user@example.com' } satisfies FieldSpec;
const otpRequestId = { rule: { kind: 'uuid' }, description: 'The `otp_request_id` send-otp answered with.' } satisfies FieldSpec;

export const SEND_FIELDS = {
  mobileNo: { ...mobileNo, description: `${mobileNo.description} Required when channel includes sms or whatsapp.` },
  countryCode,
  email: { ...email, description: 'Required when channel includes email.' },
  emailFromName: { rule: { kind: 'text', maxLength: 100 }, description: 'Sender display name. Required when channel includes email.', example: 'Gilchrist' },
  emailSubject: { rule: { kind: 'text', maxLength: 200 }, description: 'Subject line; may use {{variables}}. Required when channel includes email.', example: 'Your OTP Code' },
  emailTemplateId: { rule: { kind: 'text', maxLength: 64 }, description: 'A message template id, e.g. otp_email. Required when channel includes email.', example: 'otp_email' },
  emailTemplateAttributes: {
    rule: { kind: 'attributes', maxProperties: 50, maxLength: 1000 },
    description: 'Strings for the template\'s {{variables}} ({{otp}} and {{expiresInMinutes}} are injected).', example: { name: 'Gilchrist' },
  },
  channels: { rule: { kind: 'channels' }, oneOf: 'channels', description: 'sms, whatsapp, email, a pipe-joined combination (sms|whatsapp|email), or all. Give channel or workflow, not both.', example: 'sms' },
  workflow: {
    rule: { kind: 'workflow', maxSteps: MAX_WORKFLOW_STEPS, maxWaitSeconds: MAX_WORKFLOW_WAIT_SECONDS }, oneOf: 'channels',
    description: `Channel fallback, instead of channel: up to ${MAX_WORKFLOW_STEPS} steps on distinct channels, in order. The first is sent at once; `
      + `each later one wait_seconds (1-${MAX_WORKFLOW_WAIT_SECONDS}) after the one before it, with the same code, and only while the OTP is still pending `
      + '(not verified, canceled, superseded, expired or locked). The waits must add up to less than the OTP\'s validity. '
      + 'mobile_no (sms, whatsapp) and the email fields (email) are required as for channel.',
    example: [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 30 }],
  },
  source: { rule: { kind: 'text', maxLength: 64, pattern: SOURCE_PATTERN }, required: true, description: '1-64 letters, digits, _ - . (e.g. user_signup).', example: 'user_signup' },
  type: { rule: { kind: 'choice', values: OTP_TYPES }, required: true, description: 'Only simple_otp for now.', example: 'simple_otp' },
  otpCodeLength: { rule: { kind: 'integer', minimum: MIN_CODE_LENGTH, maximum: MAX_CODE_LENGTH }, description: 'Length of the generated code; default 6.', example: 6 },
  otpCodeType: { rule: { kind: 'choice', values: CODE_TYPES }, description: 'Default NUMERIC.', example: 'NUMERIC' },
  otpCode: { rule: { kind: 'code', minLength: MIN_CODE_LENGTH, maxLength: MAX_CODE_LENGTH }, description: 'Your own code (letters and digits); length and type are then ignored.' },
  ruleId: { rule: { kind: 'integer', minimum: 1, maximum: MAX_INTEGER }, description: 'A reference to an OTP rule, kept on the request (it never satisfies the rule).' },
  recordId: { rule: { kind: 'uuid' }, description: 'Binds the OTP to a record.' },
} satisfies Record<string, FieldSpec>;

export const VERIFY_FIELDS = {
  otpRequestId: { ...otpRequestId, description: `${otpRequestId.description} Required unless mobile_no or email is given.` },
  mobileNo,
  countryCode,
  email,
  source: { rule: { kind: 'text', maxLength: 64 }, description: 'The source the OTP was sent for. Required unless otp_request_id is given.', example: 'user_signup' },
  code: { rule: { kind: 'text', maxLength: 64 }, required: true, description: 'The code the recipient received (letters compare case-insensitively).', example: '4826' },
} satisfies Record<string, FieldSpec>;

export const RESEND_FIELDS = {
  otpRequestId: { ...otpRequestId, required: true },
  channels: { rule: { kind: 'channels' }, description: 'Only these of the OTP\'s channels (same grammar as send-otp); default all of them.', example: 'sms' },
} satisfies Record<string, FieldSpec>;

export const CANCEL_FIELDS = {
  otpRequestId: { ...otpRequestId, required: true },
} satisfies Record<string, FieldSpec>;
