import { maskEmail, maskMobile, phoneToE164, toE164 } from './recipients';

describe('toE164: the partner mobile_no + country_code', () => {
  test('valid numbers of the country only', () => {
    expect(toE164('7977251637', '91')).toBe('+917977251637');
    expect(toE164('7977251637', '+91')).toBe('+917977251637');
    expect(toE164('6123456789', '252')).toBeNull();
    expect(toE164('12345678', '91')).toBeNull();
  });

  test('attacker: anything but one national number for that country is refused', () => {
    expect(toE164('7977251637', '1')).toBeNull(); // an Indian mobile read as North American
    expect(toE164('79772516370', '91')).toBeNull(); // a digit too many
    expect(toE164('', '91')).toBeNull();
    expect(toE164('7977251637', '')).toBeNull();
    expect(toE164('abc', '91')).toBeNull();
  });
});

describe('phoneToE164: a phone stored free-form, e.g. a record field', () => {
  test.each([
    ['+44 7911 123456', '91', '+447911123456'],
    ['0044 7911 123456', '91', '+447911123456'],
    ['07911 123456', '44', '+447911123456'],
    ['(0) 79772 51637', '91', '+917977251637'],
    ['079-7725-1637', '91', '+917977251637'],
    ['7977251637', '91', '+917977251637'],
    ['+1 (201) 555-0123', '91', '+12015550123'],
  ])('%s (default +%s) → %s', (value, cc, e164) => expect(phoneToE164(value, cc)).toBe(e164));

  test.each(['', 'abc', 'call 7977251637', '+252 6123456789', '12345678', '7977251637 / 7977251638'])('%j is not a number an OTP can go to', (value) => {
    expect(phoneToE164(value, '91')).toBeNull();
  });
});

describe('masking: what a caller may see of a recipient', () => {
  test('maskMobile hides all but the last four digits of the national number', () => {
    expect(maskMobile('+917977251637')).toBe('******1637');
    expect(maskMobile('+447911123456')).toBe('******3456');
    expect(maskMobile(null)).toBeNull();
  });

  test('maskEmail keeps the first character and the domain', () => {
    expect(maskEmail('asha.rao@example.com')).toBe('a***@example.com');
    expect(maskEmail('a@b@example.com')).toBe('a***@example.com');
    expect(maskEmail(null)).toBeNull();
  });
});
