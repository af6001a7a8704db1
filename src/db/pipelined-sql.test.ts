import { inline, shiftParams } from './pipelined-sql';

describe('pipelined statements: parameters inlined as quoted literals', () => {
  test('an attacker\'s quote, backslash and statement separator stay inside the literal', () => {
    const sql = inline('SELECT $1, $2', ["x'); DROP TABLE otp_requests; --", 'a\\b']);
    expect(sql).toBe(`SELECT 'x''); DROP TABLE otp_requests; --',  E'a\\\\b'`);
  });

  test('null, numbers, booleans, arrays and objects', () => {
    expect(inline('$1 $2 $3', [null, 42, true])).toBe(`NULL '42' TRUE`);
    expect(inline('$1', [['SMS', 'EMAIL']])).toBe(`'{"SMS","EMAIL"}'`);
    // an element with a quote is escaped for the array syntax, and that backslash for the SQL literal
    expect(inline('$1', [['a"b']])).toBe(String.raw` E'{"a\\"b"}'`);
    expect(inline('$1', [{ k: "v'" }])).toBe(`'{"k":"v''"}'`);
  });

  test('$10 is the tenth parameter, not $1 followed by 0; a missing parameter is refused', () => {
    const params = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(inline('$1,$10', params)).toBe(`'1','10'`);
    expect(() => inline('$2', [1])).toThrow(/no parameter \$2/);
    expect(() => inline('$1', [Number.NaN])).toThrow(/finite/);
  });

  test('shiftParams renumbers every placeholder, two-digit ones included', () => {
    expect(shiftParams('INSERT INTO t VALUES ($1, $2, $10) RETURNING $1', 7)).toBe('INSERT INTO t VALUES ($8, $9, $17) RETURNING $8');
  });
});
