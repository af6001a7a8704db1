import { ErrorCode } from '../core/errors';
import { isUuid } from '../core/ids';
import type { OtpChannel, OtpCodeType, OtpIssuer } from './otp-request.entity';
import { codeTypeOf, normaliseCode } from './codes';
import { toE164 } from './recipients';
import { templateProblem } from './templates/render';
import { isEmailAddress } from '../core/email';
import { CANCEL_FIELDS, CHANNELS, RESEND_FIELDS, SEND_FIELDS, VERIFY_FIELDS, type FieldSpec } from './otp.fields';

export { CHANNELS, CODE_TYPES, MAX_CODE_LENGTH, MAX_INTEGER, MIN_CODE_LENGTH, OTP_TYPES } from './otp.fields';

/**
 * The one validator behind GraphQL `sendOtp`/`verifyOtp` and REST `/api/send-otp`/`/api/verify-otp` (and REST
 * resend/cancel). It reads the neutral request (each door converts its own wire format into it), checks each field
 * against its rule in otp.fields.ts (from which the OpenAPI document is derived too) and reports every failing field
 * at once, in the Laravel wording the partner API uses.
 */

/** A send as a caller asked for it, through either door, before any check: every value is still unknown. */
export interface SendOtpRequest {
  mobileNo?: unknown;
  countryCode?: unknown;
  email?: unknown;
  emailFromName?: unknown;
  emailSubject?: unknown;
  emailTemplateId?: unknown;
  emailTemplateAttributes?: unknown;
  /** A list of channels, or the partner's `sms|email` / `all`. Give this or `workflow`. */
  channels?: unknown;
  /** Channel fallback: a list of steps `{ channel, waitSeconds }` (see {@link WorkflowStep}). Give this or `channels`. */
  workflow?: unknown;
  source?: unknown;
  type?: unknown;
  otpCodeLength?: unknown;
  otpCodeType?: unknown;
  otpCode?: unknown;
  ruleId?: unknown;
  recordId?: unknown;
}

/** A verification as a caller asked for it, before any check. */
export interface VerifyOtpRequest {
  otpRequestId?: unknown;
  mobileNo?: unknown;
  countryCode?: unknown;
  email?: unknown;
  source?: unknown;
  code?: unknown;
}

/** A resend through the REST door, before any check (GraphQL's arguments are typed by the schema). */
export interface ResendOtpRequest {
  otpRequestId?: unknown;
  /** A list of channels, or the partner's `sms|email` / `all`; absent: all of the OTP's channels. */
  channels?: unknown;
}

/** A cancel through the REST door, before any check. */
export interface CancelOtpRequest {
  otpRequestId?: unknown;
}

export type RequestField = keyof SendOtpRequest | keyof VerifyOtpRequest;

export interface FieldError {
  /** Path in the request, e.g. `['otpCodeLength']` or `['emailTemplateAttributes', 'name']`. */
  field: string[];
  message: string;
  code: ErrorCode;
}

/** How messages name each field: the partner's attribute names (its field is `channel`), on both doors alike. */
const LABELS: Record<RequestField, string> = {
  mobileNo: 'mobile no', countryCode: 'country code', email: 'email', emailFromName: 'email from name', emailSubject: 'email subject',
  emailTemplateId: 'email template id', emailTemplateAttributes: 'email template attributes', channels: 'channel', source: 'source',
  type: 'type', otpCodeLength: 'otp code length', otpCodeType: 'otp code type', otpCode: 'otp code', ruleId: 'rule id',
  recordId: 'record id', otpRequestId: 'otp request id', code: 'code', workflow: 'workflow',
};

/** One step of a channel-fallback workflow: its channel, and how long after the step before it it is due (0 for the first). */
export interface WorkflowStep {
  channel: OtpChannel;
  waitSeconds: number;
}

export interface SendOtpCommand {
  /** Every channel of the send (a workflow's, in its order). */
  channels: OtpChannel[];
  /** Channel fallback: the steps in order (their channels are `channels`); null for a send on all `channels` at once. */
  workflow: WorkflowStep[] | null;
  mobile: string | null;
  email: string | null;
  emailFromName: string | null;
  emailSubject: string | null;
  emailTemplateId: string | null;
  emailTemplateAttributes: Record<string, string>;
  source: string;
  type: string;
  codeLength: number;
  codeType: OtpCodeType;
  /** A caller-supplied code, normalised. */
  code: string | null;
  ruleId: number | null;
  recordId: string | null;
  /** `API` for sendOtp/REST; `RULE` only for the OTP rules' send path. Only RULE OTPs can satisfy a guarded save. */
  issuedBy: OtpIssuer;
  /** Rule sends that know the intended change: the target values of the rule's condition fields (purpose binding). */
  intendedFields: Record<string, unknown> | null;
  /** Per-channel message templates (null: the channel's default); email's is `emailTemplateId`. */
  smsTemplateId: string | null;
  whatsappTemplateId: string | null;
  /** Server-supplied template variables for every channel (e.g. `record`, `rule`, `change`); never from a caller. */
  messageVariables: Record<string, unknown>;
}

export type VerifyOtpCommand =
  | { otpRequestId: string; code: string }
  | { otpRequestId: null; mobile: string | null; email: string | null; source: string; code: string };

export interface Validated<T> {
  value: T | null;
  errors: FieldError[];
}

/** `mobileNo` → "mobile no", as Laravel names attributes. */
function attributeName(key: RequestField): string {
  return LABELS[key];
}

class Checker {
  readonly errors: FieldError[] = [];

  constructor(private readonly raw: Record<string, unknown>) {}

  has(key: RequestField): boolean {
    const value = this.raw[key];
    return value !== undefined && value !== null && value !== '';
  }

  fail(key: RequestField, message: string, code = ErrorCode.INVALID): void {
    this.failAt([key], message, code);
  }

  failAt(field: string[], message: string, code = ErrorCode.INVALID): void {
    this.errors.push({ field, message, code });
  }

  failed(key: RequestField): boolean {
    return this.errors.some((e) => e.field.length === 1 && e.field[0] === key);
  }

  /** The value of `key` checked against its rule (otp.fields.ts); null when absent or invalid. */
  check(key: RequestField, spec: FieldSpec): string | number | null {
    const rule = spec.rule;
    switch (rule.kind) {
      case 'text': {
        const text = this.text(key, rule.maxLength);
        if (text !== null && rule.pattern && !new RegExp(rule.pattern).test(text)) {
          this.fail(key, `The ${attributeName(key)} field format is invalid.`);
          return null;
        }
        return text;
      }
      case 'integer': return this.integer(key, rule.minimum, rule.maximum);
      case 'choice': return this.oneOf(key, rule.values);
      case 'uuid': return this.uuid(key);
      case 'mobile': return this.mobile(key, rule.minDigits, rule.maxDigits);
      case 'email': return this.email(key, rule.maxLength);
      default: throw new Error(`check() does not take ${rule.kind} fields`);
    }
  }

  required(key: RequestField, when?: string): boolean {
    if (this.has(key)) return true;
    this.fail(key, `The ${attributeName(key)} field is required${when ? ` when ${when}` : ''}.`, ErrorCode.REQUIRED);
    return false;
  }

  /** A string (numbers are accepted and stringified, as partner clients send both), trimmed; null when absent or invalid. */
  text(key: RequestField, maxLength: number): string | null {
    if (!this.has(key)) return null;
    const value = this.raw[key];
    if (typeof value !== 'string' && typeof value !== 'number') {
      this.fail(key, `The ${attributeName(key)} field must be a string.`);
      return null;
    }
    const text = String(value).trim();
    if (text.includes('\u0000')) {
      this.fail(key, `The ${attributeName(key)} field must not contain NUL characters.`);
      return null;
    }
    if (text.length > maxLength) {
      this.fail(key, `The ${attributeName(key)} field must not be greater than ${maxLength} characters.`);
      return null;
    }
    return text;
  }

  integer(key: RequestField, min: number, max: number): number | null {
    if (!this.has(key)) return null;
    const value = this.raw[key];
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n)) {
      this.fail(key, `The ${attributeName(key)} field must be an integer.`);
      return null;
    }
    if (n < min) this.fail(key, `The ${attributeName(key)} field must be at least ${min}.`);
    else if (n > max) this.fail(key, `The ${attributeName(key)} field must not be greater than ${max}.`);
    return this.failed(key) ? null : n;
  }

  oneOf<T extends string>(key: RequestField, allowed: readonly T[]): T | null {
    const text = this.text(key, 64);
    if (text === null) return null;
    const match = allowed.find((a) => a.toLowerCase() === text.toLowerCase());
    if (!match) this.fail(key, `The selected ${attributeName(key)} is invalid.`);
    return match ?? null;
  }

  uuid(key: RequestField): string | null {
    const text = this.text(key, 64);
    if (text === null) return null;
    if (!isUuid(text)) {
      this.fail(key, `The ${attributeName(key)} field must be a valid UUID.`);
      return null;
    }
    return text.toLowerCase();
  }

  mobile(key: RequestField, minDigits: number, maxDigits: number): string | null {
    const text = this.text(key, 32);
    if (text === null) return null;
    if (!new RegExp(`^\\d{${minDigits},${maxDigits}}$`).test(text)) {
      this.fail(key, `The ${attributeName(key)} field must be between ${minDigits} and ${maxDigits} digits.`);
      return null;
    }
    return text;
  }

  countryCode(key: RequestField, maxDigits: number, fallback: string): string {
    const text = this.text(key, 8);
    if (text === null) return fallback;
    const digits = text.replace(/^\+/, '');
    if (!new RegExp(`^\\d{1,${maxDigits}}$`).test(digits)) {
      this.fail(key, `The ${attributeName(key)} field must be between 1 and ${maxDigits} digits.`);
      return fallback;
    }
    return digits;
  }

  email(key: RequestField, maxLength: number): string | null {
    const text = this.text(key, maxLength);
    if (text === null) return null;
    if (!isEmailAddress(text)) {
      this.fail(key, `The ${attributeName(key)} field must be a valid email address.`);
      return null;
    }
    return text.toLowerCase();
  }
}

/** `sms`, `whatsapp`, `email`, `sms|whatsapp|email`, `all`, or (GraphQL) a list of `SMS`/`WHATSAPP`/`EMAIL`. */
export function parseChannels(value: unknown): OtpChannel[] | null {
  const parts = Array.isArray(value) ? value : typeof value === 'string' ? value.split('|') : null;
  if (!parts || parts.length === 0 || parts.some((p) => typeof p !== 'string')) return null;
  const names = (parts as string[]).map((p) => p.trim().toUpperCase());
  if (names.length === 1 && names[0] === 'ALL') return [...CHANNELS];
  if (names.some((n) => !CHANNELS.includes(n as OtpChannel))) return null;
  return CHANNELS.filter((c) => names.includes(c));
}

/**
 * `validitySeconds`: how long the OTP will be valid (a workflow's last step must be due before it expires).
 */
export function validateSendOtp(request: SendOtpRequest, defaultCountryCode: string, validitySeconds: number): Validated<SendOtpCommand> {
  const c = new Checker({ ...request });
  let channels: OtpChannel[] = [];
  let workflow: WorkflowStep[] | null = null;
  if (c.has('channels') && c.has('workflow')) {
    c.fail('channels', 'The channel field prohibits workflow from being present.');
    c.fail('workflow', 'The workflow field prohibits channel from being present.');
  } else if (c.has('workflow')) {
    workflow = workflowSteps(c, request.workflow, validitySeconds);
    channels = workflow.map((step) => step.channel);
  } else if (c.required('channels')) { // the partner's wording, unchanged by the workflow alternative
    channels = parseChannels(request.channels) ?? [];
    if (channels.length === 0) c.fail('channels', 'The selected channel is invalid.');
  }
  const mobileChannel = channels.find((ch) => ch === 'SMS' || ch === 'WHATSAPP');
  const emailChannel = channels.includes('EMAIL');

  if (mobileChannel) c.required('mobileNo', `channel is ${mobileChannel.toLowerCase()}`);
  const mobileNo = c.check('mobileNo', SEND_FIELDS.mobileNo) as string | null;
  const countryCode = c.countryCode('countryCode', SEND_FIELDS.countryCode.rule.maxDigits, defaultCountryCode);
  // a valid number for the country (libphonenumber-js), so nothing is ever queued for an impossible one
  const mobile = mobileNo ? toE164(mobileNo, countryCode) : null;
  if (mobileNo && !mobile) c.fail('mobileNo', 'The mobile no field format is invalid.');

  for (const key of ['email', 'emailFromName', 'emailSubject', 'emailTemplateId'] as const) {
    if (emailChannel) c.required(key, 'channel is email');
  }
  const email = c.check('email', SEND_FIELDS.email) as string | null;
  const emailFromName = c.check('emailFromName', SEND_FIELDS.emailFromName) as string | null;
  const emailSubject = c.check('emailSubject', SEND_FIELDS.emailSubject) as string | null;
  // the caller's subject is compiled with the allow-listed helpers only (no `log`, which would write the code to the log)
  if (emailSubject && templateProblem(emailSubject)) c.fail('emailSubject', 'The email subject field format is invalid.');
  const emailTemplateId = c.check('emailTemplateId', SEND_FIELDS.emailTemplateId) as string | null;
  const emailTemplateAttributes = templateAttributes(c, request.emailTemplateAttributes);

  const source = c.required('source') ? c.check('source', SEND_FIELDS.source) as string | null : null;
  const type = c.required('type') ? c.check('type', SEND_FIELDS.type) as string | null : null;
  const codeLength = c.check('otpCodeLength', SEND_FIELDS.otpCodeLength) as number | null ?? 6;
  const codeType = c.check('otpCodeType', SEND_FIELDS.otpCodeType) as OtpCodeType | null ?? 'NUMERIC';
  const code = callerCode(c);
  const ruleId = c.check('ruleId', SEND_FIELDS.ruleId) as number | null;
  const recordId = c.check('recordId', SEND_FIELDS.recordId) as string | null;

  if (c.errors.length) return { value: null, errors: c.errors };
  return {
    value: {
      channels, workflow, mobile, email, emailFromName, emailSubject, emailTemplateId, emailTemplateAttributes,
      source: source!, type: type!,
      codeLength: code ? code.length : codeLength,
      codeType: code ? codeTypeOf(code) : codeType,
      code, ruleId, recordId,
      issuedBy: 'API', intendedFields: null, smsTemplateId: null, whatsappTemplateId: null, messageVariables: {},
    },
    errors: [],
  };
}

/**
 * A workflow's valid steps (the channels they require recipients for; every failing step field is reported under
 * `workflow.<index>.<field>`): 1 to
 * MAX_WORKFLOW_STEPS steps on distinct channels; the first due at once (no wait), each later one 1 to
 * MAX_WORKFLOW_WAIT_SECONDS after the one before it, and the last due before the OTP expires.
 */
function workflowSteps(c: Checker, value: unknown, validitySeconds: number): WorkflowStep[] {
  const { maxSteps, maxWaitSeconds } = SEND_FIELDS.workflow.rule;
  if (!Array.isArray(value)) {
    c.fail('workflow', 'The workflow field must be an array.');
    return [];
  }
  if (value.length === 0) c.fail('workflow', 'The workflow field must have at least 1 items.');
  if (value.length > maxSteps) c.fail('workflow', `The workflow field must not have more than ${maxSteps} items.`);
  if (c.failed('workflow')) return [];
  const steps: WorkflowStep[] = [];
  let dueAt = 0;
  value.forEach((raw: unknown, i) => {
    const at = (field: string) => ['workflow', String(i), field];
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      c.failAt(['workflow', String(i)], `The workflow.${i} field must be an array.`);
      return;
    }
    const step = raw as Record<string, unknown>;
    const name = typeof step.channel === 'string' ? step.channel.trim().toUpperCase() : null;
    const channel = CHANNELS.find((ch) => ch === name) ?? null;
    if (step.channel === undefined || step.channel === null || step.channel === '') c.failAt(at('channel'), `The workflow.${i}.channel field is required.`, ErrorCode.REQUIRED);
    else if (!channel) c.failAt(at('channel'), `The selected workflow.${i}.channel is invalid.`);
    else if (steps.some((s) => s.channel === channel)) c.failAt(at('channel'), `The workflow.${i}.channel field has a duplicate value.`);
    const wait = typeof step.waitSeconds === 'string' && /^-?\d+$/.test(step.waitSeconds.trim()) ? Number(step.waitSeconds) : step.waitSeconds;
    let waitSeconds: number | null = null;
    if (wait === undefined || wait === null || wait === '') {
      if (i === 0) waitSeconds = 0;
      else c.failAt(at('waitSeconds'), `The workflow.${i}.wait seconds field is required.`, ErrorCode.REQUIRED);
    } else if (typeof wait !== 'number' || !Number.isInteger(wait)) {
      c.failAt(at('waitSeconds'), `The workflow.${i}.wait seconds field must be an integer.`);
    } else if (i === 0 && wait !== 0) {
      c.failAt(at('waitSeconds'), 'The workflow.0.wait seconds field must be 0: the first step is sent at once.');
    } else if (i > 0 && wait < 1) {
      c.failAt(at('waitSeconds'), `The workflow.${i}.wait seconds field must be at least 1.`);
    } else if (wait > maxWaitSeconds) {
      c.failAt(at('waitSeconds'), `The workflow.${i}.wait seconds field must not be greater than ${maxWaitSeconds}.`);
    } else {
      waitSeconds = wait;
      dueAt += wait;
      if (dueAt >= validitySeconds) {
        c.failAt(at('waitSeconds'), `The workflow.${i}.wait seconds field makes this step due ${dueAt} seconds after the send, when the OTP (valid ${validitySeconds} seconds) has expired.`);
      }
    }
    // kept even when its wait is wrong, so the recipients its channel needs are checked too (no command is built then)
    if (channel && !steps.some((s) => s.channel === channel)) steps.push({ channel, waitSeconds: waitSeconds ?? 0 });
  });
  return steps;
}

function templateAttributes(c: Checker, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    c.fail('emailTemplateAttributes', 'The email template attributes field must be an array.');
    return {};
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const { maxProperties, maxLength } = SEND_FIELDS.emailTemplateAttributes.rule;
  if (entries.length > maxProperties) {
    c.fail('emailTemplateAttributes', `The email template attributes field must not have more than ${maxProperties} items.`);
    return {};
  }
  const attributes: Record<string, string> = {};
  for (const [name, v] of entries) {
    const field = ['emailTemplateAttributes', name];
    const label = attributeName('emailTemplateAttributes');
    if (typeof v !== 'string' && typeof v !== 'number') c.failAt(field, `The ${label}.${name} field must be a string.`);
    else if (name.includes('\u0000') || String(v).includes('\u0000')) c.failAt(field, `The ${label} field must not contain NUL characters.`);
    else if (String(v).length > maxLength) c.failAt(field, `The ${label}.${name} field must not be greater than ${maxLength} characters.`);
    else attributes[name] = String(v);
  }
  return attributes;
}

function callerCode(c: Checker): string | null {
  const text = c.text('otpCode', 64);
  if (text === null) return null;
  const { minLength, maxLength } = SEND_FIELDS.otpCode.rule;
  if (text.length < minLength || text.length > maxLength) {
    c.fail('otpCode', `The otp code field must be between ${minLength} and ${maxLength} characters.`);
    return null;
  }
  if (!/^[A-Za-z0-9]+$/.test(text)) {
    c.fail('otpCode', 'The otp code field must only contain letters and numbers.');
    return null;
  }
  return normaliseCode(text);
}

export function validateVerifyOtp(request: VerifyOtpRequest, defaultCountryCode: string): Validated<VerifyOtpCommand> {
  const c = new Checker({ ...request });
  const code = c.required('code') ? c.check('code', VERIFY_FIELDS.code) as string | null : null;
  const otpRequestId = c.check('otpRequestId', VERIFY_FIELDS.otpRequestId) as string | null;
  if (otpRequestId || c.failed('otpRequestId')) {
    if (c.errors.length) return { value: null, errors: c.errors };
    return { value: { otpRequestId: otpRequestId!, code: code! }, errors: [] };
  }
  if (!c.has('mobileNo') && !c.has('email')) {
    c.fail('otpRequestId', 'The otp request id field is required when none of mobile no / email are present.', ErrorCode.REQUIRED);
  }
  const mobileNo = c.check('mobileNo', VERIFY_FIELDS.mobileNo) as string | null;
  const countryCode = c.countryCode('countryCode', VERIFY_FIELDS.countryCode.rule.maxDigits, defaultCountryCode);
  const email = c.check('email', VERIFY_FIELDS.email) as string | null;
  const mobile = mobileNo ? toE164(mobileNo, countryCode) : null;
  if (mobileNo && !mobile) c.fail('mobileNo', 'The mobile no field format is invalid.');
  let source: string | null = null;
  if (c.has('source')) source = c.check('source', VERIFY_FIELDS.source) as string | null;
  else c.fail('source', 'The source field is required when otp request id is not present.', ErrorCode.REQUIRED);
  if (c.errors.length) return { value: null, errors: c.errors };
  return { value: { otpRequestId: null, mobile, email, source: source!, code: code! }, errors: [] };
}

/** A REST resend: the id, and optionally which of the OTP's channels. */
export function validateResendOtp(request: ResendOtpRequest): Validated<{ otpRequestId: string; channels: OtpChannel[] | null }> {
  const c = new Checker({ ...request });
  const otpRequestId = c.required('otpRequestId') ? c.check('otpRequestId', RESEND_FIELDS.otpRequestId) as string | null : null;
  let channels: OtpChannel[] | null = null;
  if (c.has('channels')) {
    channels = parseChannels(request.channels);
    if (!channels?.length) c.fail('channels', 'The selected channel is invalid.');
  }
  if (c.errors.length) return { value: null, errors: c.errors };
  return { value: { otpRequestId: otpRequestId!, channels }, errors: [] };
}

/** A REST cancel: the id. */
export function validateCancelOtp(request: CancelOtpRequest): Validated<{ otpRequestId: string }> {
  const c = new Checker({ ...request });
  const otpRequestId = c.required('otpRequestId') ? c.check('otpRequestId', CANCEL_FIELDS.otpRequestId) as string | null : null;
  if (c.errors.length) return { value: null, errors: c.errors };
  return { value: { otpRequestId: otpRequestId! }, errors: [] };
}
