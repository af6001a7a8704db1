/** `Test Rule 1 & Test 2 @ XYZ` → `TestRule1Test2XYZ`: every non-alphanumeric character removed. */
export function sanitizedRuleKey(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '');
}

export const FIELD_KEY_PREFIX = 'OTPRULES_OTP_';
export const HEADER_KEY_PREFIX = 'otprules-otp-';

/** The ways a caller can name a rule when passing its OTP, for OTP_REQUIRED answers and docs. */
export function acceptedKeys(rule: { id: number; name: string }): string[] {
  const name = sanitizedRuleKey(rule.name);
  return [
    `otp: [{ rule: "${rule.id}", code }]`,
    `otp: [{ rule: "${name}", code }]`,
    `fields.${FIELD_KEY_PREFIX}${rule.id}`,
    `fields.${FIELD_KEY_PREFIX}${name}`,
    `header OTPRULES-OTP-${rule.id}`,
    `header OTPRULES-OTP-${name}`,
  ];
}
