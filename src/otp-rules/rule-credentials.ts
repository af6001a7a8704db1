import type { IncomingHttpHeaders } from 'node:http';
import type { OtpCredential } from '../records/save-guard';
import { FIELD_KEY_PREFIX, HEADER_KEY_PREFIX } from './rule-keys';

/**
 * The one place where the three ways of passing a rule OTP meet: the typed `otp` argument, `OTPRULES_OTP_<key>`
 * keys in `fields`, and `OTPRULES-OTP-<key>` headers (underscores read as hyphens). Keys are rule ids or sanitised
 * names, matched case-insensitively; the result maps the lower-cased key to the code. The typed argument wins over
 * fields, fields over headers.
 */
export function collectRuleCodes(typed: OtpCredential[], reservedFields: Record<string, unknown>, headers: IncomingHttpHeaders): Map<string, string> {
  const codes = new Map<string, string>();
  const put = (key: string, code: unknown) => {
    const normalised = key.trim().toLowerCase();
    if (normalised && typeof code === 'string' && !codes.has(normalised)) codes.set(normalised, code.trim());
  };
  for (const { rule, code } of typed) put(rule, code);
  for (const [key, code] of Object.entries(reservedFields)) {
    if (key.toLowerCase().startsWith(FIELD_KEY_PREFIX.toLowerCase())) put(key.slice(FIELD_KEY_PREFIX.length), code);
  }
  for (const [name, value] of Object.entries(headers)) {
    const hyphenated = name.toLowerCase().replace(/_/g, '-');
    if (hyphenated.startsWith(HEADER_KEY_PREFIX)) put(hyphenated.slice(HEADER_KEY_PREFIX.length), Array.isArray(value) ? value[0] : value);
  }
  return codes;
}

/** The code given for a rule, by its id or its sanitised name. */
export function codeFor(codes: Map<string, string>, rule: { id: number; sanitizedKey: string }): string | undefined {
  return codes.get(String(rule.id)) ?? codes.get(rule.sanitizedKey);
}
