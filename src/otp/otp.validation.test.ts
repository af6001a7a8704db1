import { parseChannels, validateSendOtp, validateVerifyOtp } from './otp.validation';

describe('parseChannels', () => {
  test.each([
    ['sms', ['SMS']], ['whatsapp', ['WHATSAPP']], ['email', ['EMAIL']], ['sms|whatsapp|email', ['SMS', 'WHATSAPP', 'EMAIL']],
    ['email|sms', ['SMS', 'EMAIL']], ['all', ['SMS', 'WHATSAPP', 'EMAIL']], [' SMS | Email ', ['SMS', 'EMAIL']], [['SMS', 'SMS'], ['SMS']],
  ])('%j → %j', (input, expected) => expect(parseChannels(input)).toEqual(expected));

  test.each([['fax'], ['sms|'], ['all|sms'], [''], [[]], [42], [[1]]])('%j is invalid', (input) => expect(parseChannels(input)).toBeNull());
});

describe('validateSendOtp', () => {
  const base = { mobileNo: '7977251637', channels: 'sms', source: 'impactx', type: 'simple_otp' };

  test('the partner example normalises to E.164 with defaults', () => {
    expect(validateSendOtp(base, '91', 600).value).toMatchObject({ mobile: '+917977251637', codeLength: 6, codeType: 'NUMERIC', code: null });
  });

  test('countryCode overrides the default, with or without +', () => {
    expect(validateSendOtp({ ...base, mobileNo: '2025550123', countryCode: '+1' }, '91', 600).value?.mobile).toBe('+12025550123');
  });

  test('a caller code sets length and type and ignores otpCodeLength/Type', () => {
    expect(validateSendOtp({ ...base, otpCode: 'ab12c', otpCodeLength: 9, otpCodeType: 'NUMERIC' }, '91', 600).value)
      .toMatchObject({ code: 'AB12C', codeLength: 5, codeType: 'ALPHANUMERIC' });
  });

  test('integers may arrive as strings; other types are refused in Laravel wording', () => {
    expect(validateSendOtp({ ...base, otpCodeLength: '8' }, '91', 600).value?.codeLength).toBe(8);
    expect(validateSendOtp({ ...base, otpCodeLength: 6.5, source: ['x'] }, '91', 600).errors.map((e) => e.message)).toEqual([
      'The source field must be a string.', 'The otp code length field must be an integer.',
    ]);
  });

  test('emailTemplateAttributes must be an object of strings', () => {
    const { errors } = validateSendOtp({ ...base, emailTemplateAttributes: { name: { nested: true } } }, '91', 600);
    expect(errors).toEqual([{ field: ['emailTemplateAttributes', 'name'], code: 'INVALID', message: 'The email template attributes.name field must be a string.' }]);
    expect(validateSendOtp({ ...base, emailTemplateAttributes: ['x'] }, '91', 600).errors[0].message).toBe('The email template attributes field must be an array.');
  });
});

describe('validateVerifyOtp', () => {
  test('by id, or by recipient and source', () => {
    expect(validateVerifyOtp({ otpRequestId: '7D6F1D7E-0000-4000-8000-000000000000', code: '1234' }, '91').value)
      .toEqual({ otpRequestId: '7d6f1d7e-0000-4000-8000-000000000000', code: '1234' });
    expect(validateVerifyOtp({ email: 'A@B.co', source: 'x', code: '1234' }, '91').value)
      .toEqual({ otpRequestId: null, mobile: null, email: 'a@b.co', source: 'x', code: '1234' });
  });

  test('a malformed id is reported', () => {
    expect(validateVerifyOtp({ otpRequestId: 'nope', code: '1' }, '91').errors).toEqual([
      { field: ['otpRequestId'], code: 'INVALID', message: 'The otp request id field must be a valid UUID.' },
    ]);
  });
});
