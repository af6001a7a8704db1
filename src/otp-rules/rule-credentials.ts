import type { IncomingHttpHeaders } from 'node:http';
import type { OtpCredential } from '../records/save-guard';
import { FIELD_KEY_PREFIX, HEADER_KEY_PREFIX } from './rule-keys';

/**
 * The rule OTPs passed as `OTPRULES-OTP-<key>` headers (names matched case-insensitively, underscores read as
 * hyphens; a repeated header gives its first value), keyed by the `<key>` part as written. Read once, when the
 * request context is built, so nothing past the context sees raw headers.
 */
export function ruleOtpHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const codes: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const hyphenated = name.toLowerCase().replace(/_/g, '-');
    const code = Array.isArray(value) ? value[0] : value;
    if (hyphenated.startsWith(HEADER_KEY_PREFIX) && typeof code === 'string') codes[hyphenated.slice(HEADER_KEY_PREFIX.length)] = code;
  }
  return codes;
}

/**
 * The one place where the three ways of passing a rule OTP meet: the typed `otp` argument, `OTPRULES_OTP_<key>`
 * keys in `fields`, and `OTPRULES-OTP-<key>` headers (as read by `ruleOtpHeaders`). Keys are rule ids or sanitised
 * names, matched case-insensitively; the result maps the lower-cased key to the code. The typed argument wins over
 * fields, fields over headers.
 */
export function collectRuleCodes(typed: OtpCredential[], reservedFields: Record<string, unknown>, headerCodes: Record<string, string>): Map<string, string> {
  const codes = new Map<string, string>();
  const put = (key: string, code: unknown) => {
    const normalised = key.trim().toLowerCase();
    if (normalised && typeof code === 'string' && !codes.has(normalised)) codes.set(normalised, code.trim());
  };
  for (const { rule, code } of typed) put(rule, code);
  for (const [key, code] of Object.entries(reservedFields)) {
    if (key.toLowerCase().startsWith(FIELD_KEY_PREFIX.toLowerCase())) put(key.slice(FIELD_KEY_PREFIX.length), code);
  }
  for (const [key, code] of Object.entries(headerCodes)) put(key, code);
  return codes;
}

/** The code given for a rule, by its id or its sanitised name. */
export function codeFor(codes: Map<string, string>, rule: { id: number; sanitizedKey: string }): string | undefined {
  return codes.get(String(rule.id)) ?? codes.get(rule.sanitizedKey);
}
