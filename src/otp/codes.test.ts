import { CodeHasher, codeTypeOf, generateCode } from './codes';

describe('codes', () => {
  test('generated codes have the asked length and alphabet', () => {
    for (let i = 0; i < 200; i += 1) {
      expect(generateCode(6, 'NUMERIC')).toMatch(/^\d{6}$/);
      expect(generateCode(4, 'ALPHABETIC')).toMatch(/^[A-Z]{4}$/);
      expect(generateCode(10, 'ALPHANUMERIC')).toMatch(/^[0-9A-Z]{10}$/);
    }
  });

  test('every digit appears in every position (no fixed or biased symbols)', () => {
    const seen = Array.from({ length: 4 }, () => new Set<string>());
    for (let i = 0; i < 2000; i += 1) [...generateCode(4, 'NUMERIC')].forEach((d, p) => seen[p].add(d));
    expect(seen.map((s) => s.size)).toEqual([10, 10, 10, 10]);
  });

  test('HMACs are keyed, bound to the request, case-insensitive, and compared in constant time', () => {
    const hasher = new CodeHasher('k'.repeat(32));
    const hash = hasher.hash('req-1', 'ab12');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('ab12');
    expect(hasher.matches('req-1', 'AB12', hash)).toBe(true);
    expect(hasher.matches('req-2', 'ab12', hash)).toBe(false);
    expect(hasher.matches('req-1', 'ab13', hash)).toBe(false);
    expect(new CodeHasher('x'.repeat(32)).matches('req-1', 'ab12', hash)).toBe(false);
  });

  test('sealed codes open only with the same key', () => {
    const hasher = new CodeHasher('k'.repeat(32));
    const sealed = hasher.seal('123456');
    expect(sealed).not.toContain('123456');
    expect(hasher.unseal(sealed)).toBe('123456');
    expect(() => new CodeHasher('x'.repeat(32)).unseal(sealed)).toThrow();
  });

  test('codeTypeOf classifies caller-supplied codes', () => {
    expect(codeTypeOf('1234')).toBe('NUMERIC');
    expect(codeTypeOf('abcd')).toBe('ALPHABETIC');
    expect(codeTypeOf('ab12')).toBe('ALPHANUMERIC');
  });
});
