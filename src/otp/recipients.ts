// The 'max' metadata checks each number against its country's real number ranges ('min' only checks lengths, and
// would let through e.g. +91 12345678).
import { parsePhoneNumber, parsePhoneNumberFromString, type CountryCallingCode } from 'libphonenumber-js/max';

/**
 * `+917977251637` from `7977251637` and `91`; null unless it is a valid number for that country code
 * (libphonenumber-js, full metadata). The one check every mobile number passes before anything is queued.
 */
export function toE164(mobileNo: string, countryCode: string): string | null {
  const parsed = parsePhoneNumberFromString(`+${countryCode.replace(/^\+/, '')}${mobileNo}`);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * A phone number stored free-form (e.g. a record's `mobile` field: `+44 7911 123456`, `0044 7911 123456`,
 * `(0)79771 25637`, `079-7725-1637`) as E.164; numbers without an international prefix belong to
 * `defaultCountryCode` (its trunk prefix `0` is dropped). Null unless the whole value is one valid number.
 */
export function phoneToE164(value: string, defaultCountryCode: string): string | null {
  const text = value.trim().replace(/^00(?=[1-9])/, '+'); // the common international prefix
  if (!text || text.length > 40) return null;
  try {
    const parsed = parsePhoneNumber(text, { defaultCallingCode: defaultCountryCode.replace(/^\+/, '') as CountryCallingCode, extract: false });
    return parsed.isValid() ? parsed.number : null;
  } catch {
    return null; // not a number at all (NOT_A_NUMBER, TOO_SHORT, ...)
  }
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
