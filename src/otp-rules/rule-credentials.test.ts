import { codeFor, collectRuleCodes, ruleOtpHeaders } from './rule-credentials';

describe('collectRuleCodes: the three ways of passing a rule OTP meet in one map', () => {
  test('typed argument, OTPRULES_OTP_ fields and OTPRULES-OTP- headers all arrive, keyed by the lower-cased rule key', () => {
    const codes = collectRuleCodes(
      [{ rule: '7', code: '111111' }],
      { OTPRULES_OTP_CloseDeal: '222222' },
      ruleOtpHeaders({ 'otprules-otp-approveinvoice': '333333' }),
    );
    expect([...codes]).toEqual([['7', '111111'], ['closedeal', '222222'], ['approveinvoice', '333333']]);
  });

  test('the typed argument wins over fields, and fields over headers, for the same rule', () => {
    const codes = collectRuleCodes(
      [{ rule: 'CloseDeal', code: 'typed' }],
      { OTPRULES_OTP_closedeal: 'field', OTPRULES_OTP_9: 'field9' },
      ruleOtpHeaders({ 'otprules-otp-closedeal': 'header', 'otprules-otp-9': 'header9', 'otprules-otp-10': 'header10' }),
    );
    expect(Object.fromEntries(codes)).toEqual({ closedeal: 'typed', 9: 'field9', 10: 'header10' });
  });

  test('header names match case-insensitively, with underscores read as hyphens; a repeated header gives its first value', () => {
    const codes = collectRuleCodes([], {}, ruleOtpHeaders({ OTPRULES_OTP_5: '555555', 'OtpRules-Otp-Six': ['666666', '000000'] }));
    expect(Object.fromEntries(codes)).toEqual({ 5: '555555', six: '666666' });
  });

  test('field keys match their prefix case-insensitively; codes and keys are trimmed', () => {
    const codes = collectRuleCodes([{ rule: ' 12 ', code: ' 121212 ' }], { otprules_otp_Refund: ' 424242 ' }, {});
    expect(Object.fromEntries(codes)).toEqual({ 12: '121212', refund: '424242' });
  });
});

describe('attacker: smuggles something other than a code for a rule', () => {
  test('non-text codes, empty keys and unrelated fields or headers are ignored', () => {
    const codes = collectRuleCodes(
      [{ rule: '   ', code: '999999' }],
      { OTPRULES_OTP_: '111111', OTPRULES_OTP_a: 123456, OTPRULES_OTP_b: { code: '1' }, OTPRULES_OTP_c: null, lastName: 'Rao', OTP_x: '2' },
      ruleOtpHeaders({ authorization: 'Bearer x', 'otprules-otp-': '3', 'x-otprules-otp-d': '4', 'otprules-otp-e': undefined }),
    );
    expect(codes.size).toBe(0);
  });

  test('a typed entry with a non-text code does not block the same rule passed as a field', () => {
    const codes = collectRuleCodes([{ rule: '3', code: 42 as unknown as string }], { OTPRULES_OTP_3: '333333' }, {});
    expect(codes.get('3')).toBe('333333');
  });
});

describe('ruleOtpHeaders: the context keeps only the rule OTP headers, never the raw ones', () => {
  test('only OTPRULES-OTP- headers survive, keyed by their rule key; credentials and other headers are dropped', () => {
    expect(ruleOtpHeaders({
      authorization: 'Bearer secret', cookie: 'a=b', 'x-request-id': 'r1',
      'otprules-otp-7': '111111', OTPRULES_OTP_CloseDeal: '222222', 'OtpRules-Otp-Six': ['666666', '000000'], 'otprules-otp-e': undefined,
    })).toEqual({ 7: '111111', closedeal: '222222', six: '666666' });
  });
});

describe('codeFor: a rule is named by its id or its sanitised name', () => {
  const rule = { id: 4, sanitizedKey: 'closedeal' };

  test('by id first, then by sanitised name', () => {
    expect(codeFor(new Map([['4', 'by-id'], ['closedeal', 'by-name']]), rule)).toBe('by-id');
    expect(codeFor(new Map([['closedeal', 'by-name']]), rule)).toBe('by-name');
  });

  test('a code for another rule is not this rule\'s code', () => {
    expect(codeFor(new Map([['5', 'x'], ['closedeals', 'y']]), rule)).toBeUndefined();
  });
});
