import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** `+917977251637` from `7977251637` and `91`; null when the digits cannot form a number. */
export function toE164(mobileNo: string, countryCode: string): string | null {
  const parsed = parsePhoneNumberFromString(`+${countryCode}${mobileNo}`);
  return parsed ? parsed.number : null;
}

/** `******1637`: the national number with all but the last four digits hidden. */
export function maskMobile(e164: string | null): string | null {
  if (!e164) return null;
  const national = parsePhoneNumberFromString(e164)?.nationalNumber ?? e164.replace(/^\+/, '');
  return `${'*'.repeat(Math.max(0, national.length - 4))}${national.slice(-4)}`;
}

/** `u***@example.com`. */
export function maskEmail(email: string | null): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}
