const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The one email check of the API (users, record fields, OTP recipients): a plausible address of at most 254 characters. */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}
