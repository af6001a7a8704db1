import { canonicalJson, checkedKey, keyFromHeader, payloadHash } from './idempotency-keys';

describe('payloads compared by their canonical JSON', () => {
  test('key order, absent and null fields do not matter; array order and values do', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null }, e: undefined })).toBe('{"a":{"d":[2,1]},"b":1}');
    expect(payloadHash('sendOtp', { a: 1, b: 'x' })).toBe(payloadHash('sendOtp', { b: 'x', a: 1, c: null }));
    expect(payloadHash('sendOtp', { a: [1, 2] })).not.toBe(payloadHash('sendOtp', { a: [2, 1] }));
    expect(payloadHash('sendOtp', { a: '1' })).not.toBe(payloadHash('sendOtp', { a: 1 }));
    expect(payloadHash('sendOtp', { a: 1 })).not.toBe(payloadHash('createRecord', { a: 1 }));
  });
});

describe('keys at and past every bound', () => {
  test.each(['x', ' ', '~'.repeat(255), 'a b"c\\d'])('%j is a key', (key) => expect(checkedKey(key)).toBe(key));
  test.each(['', 'k'.repeat(256), 'a\nb', 'a\tb', 'clé', '\x7f', '\u0000'])('%j is refused', (key) => {
    expect(() => checkedKey(key)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argumentName: 'idempotencyKey' } }));
  });
  test('the header: absent is no key, a Structured Field string is unquoted, a bare value is taken as it is', () => {
    expect(keyFromHeader(undefined)).toBeNull();
    expect(keyFromHeader('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(keyFromHeader('"say \\"hi\\" \\\\"')).toBe('say "hi" \\');
    expect(keyFromHeader('8e03978e')).toBe('8e03978e');
    expect(() => keyFromHeader('""')).toThrow(/1-255/);
  });
});
