import { BadUserInput } from '../core/errors';
import { encodeCursor } from '../core/pagination';
import { findModule } from './modules';
import { MAX_FILTERS, MAX_FILTER_VALUE_LENGTH, RecordQuery, type RecordFilter, type RecordOrder } from './record.query';

const deals = findModule('Deals')!;
const contacts = findModule('Contacts')!;
const BY_CREATED: RecordOrder = { field: 'createdAt', direction: 'ASC' };
const ID = '0b7d3c1e-2f4a-4c5d-8e6f-7a8b9c0d1e2f';

const query = (filters: RecordFilter[], orderBy: RecordOrder = BY_CREATED, includeDeleted = false) => new RecordQuery(deals, filters, orderBy, includeDeleted);
const whereOf = (filter: RecordFilter) => {
  const q = query([filter]);
  return { sql: q.whereSql(), params: q.params };
};
const refusal = (build: () => unknown): string => {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(BadUserInput);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT' });
    return (error as BadUserInput).message;
  }
  throw new Error('expected the query to be refused');
};

describe('RecordQuery: the SQL and parameters it builds', () => {
  test('no filters: the module as the first parameter, deleted records left out unless asked for', () => {
    expect(query([]).whereSql()).toBe('r.module = $1 AND r.deleted_at IS NULL');
    expect(query([]).params).toEqual(['Deals']);
    expect(query([], BY_CREATED, true).whereSql()).toBe('r.module = $1');
  });

  test.each<[RecordFilter, string, unknown[]]>([
    [{ field: 'name', operator: 'EQUALS', value: 'Big' }, "r.fields->>'name' = $2::text", ['Big']],
    [{ field: 'stage', operator: 'NOT_EQUALS', value: 'Proposal' }, "r.fields->>'stage' IS DISTINCT FROM $2::text", ['Proposal']],
    [{ field: 'amount', operator: 'GREATER_THAN', value: 100 }, "(r.fields->>'amount')::numeric > $2::numeric", [100]],
    [{ field: 'probability', operator: 'LESS_THAN', value: 50 }, "(r.fields->>'probability')::numeric < $2::numeric", [50]],
    [{ field: 'closeDate', operator: 'LESS_THAN', value: '2024-06-30' }, "r.fields->>'closeDate' < $2::text", ['2024-06-30']],
    [{ field: 'createdAt', operator: 'GREATER_THAN', value: '2024-05-01' }, 'r.created_at > $2::timestamptz', ['2024-05-01T00:00:00+00:00']],
    [{ field: 'label', operator: 'STARTS_WITH', value: 'Big' }, '(r.label)::text ILIKE $2', ['Big%']],
    [{ field: 'name', operator: 'IS_EMPTY' }, "COALESCE(r.fields->>'name', '') = ''", []],
    [{ field: 'amount', operator: 'IS_NOT_EMPTY' }, "(r.fields->>'amount')::numeric IS NOT NULL", []],
  ])('%j → %s', (filter, sql, params) => {
    expect(whereOf(filter)).toEqual({ sql: `r.module = $1 AND r.deleted_at IS NULL AND ${sql}`, params: ['Deals', ...params] });
  });

  test('a boolean field compares as boolean', () => {
    const q = new RecordQuery(contacts, [{ field: 'doNotCall', operator: 'EQUALS', value: true }], BY_CREATED, false);
    expect(q.whereSql()).toBe("r.module = $1 AND r.deleted_at IS NULL AND (r.fields->>'doNotCall')::boolean = $2::boolean");
    expect(q.params).toEqual(['Contacts', true]);
  });

  test('attacker: LIKE wildcards in a CONTAINS value match literally, never as patterns', () => {
    expect(whereOf({ field: 'name', operator: 'CONTAINS', value: '100%_off\\' }).params).toEqual(['Deals', '%100\\%\\_off\\\\%']);
  });

  test('attacker: a value that looks like SQL travels as a parameter, never in the text', () => {
    const { sql, params } = whereOf({ field: 'name', operator: 'EQUALS', value: "x' OR 1=1 --" });
    expect(sql).not.toContain('OR 1=1');
    expect(params).toEqual(['Deals', "x' OR 1=1 --"]);
  });

  test('the page query sorts NULL-free by the order field then id, and fetches one row more than asked', () => {
    const sql = query([], { field: 'amount', direction: 'DESC' }).pageSql(20, null);
    expect(sql).toContain("ORDER BY COALESCE((r.fields->>'amount')::numeric, '-Infinity'::numeric) DESC, r.id DESC LIMIT 21");
    expect(sql).toContain('WHERE r.module = $1 AND r.deleted_at IS NULL');
  });

  test('after a cursor: a keyset comparison on (sort value, id), both parameters cast to the sort kind', () => {
    const q = query([{ field: 'stage', operator: 'EQUALS', value: 'Proposal' }], { field: 'amount', direction: 'ASC' });
    const sql = q.pageSql(10, encodeCursor(['250.50', ID]));
    expect(sql).toContain("(COALESCE((r.fields->>'amount')::numeric, '-Infinity'::numeric), r.id) > ($3::numeric, $4::uuid)");
    expect(q.params).toEqual(['Deals', 'Proposal', '250.50', ID]);
  });

  test('the count query shares the filters', () => {
    const q = query([{ field: 'name', operator: 'IS_NOT_EMPTY' }]);
    expect(q.countSql()).toBe("SELECT count(*)::int AS count FROM records r WHERE r.module = $1 AND r.deleted_at IS NULL AND COALESCE(r.fields->>'name', '') <> ''");
  });

  test('cursorOf round-trips the row\'s sort value and id', () => {
    const cursor = query([]).cursorOf({ id: ID, sort_value: '2024-05-01 10:00:00.123456+00' });
    expect(JSON.parse(Buffer.from(cursor, 'base64url').toString())).toEqual(['2024-05-01 10:00:00.123456+00', ID]);
  });
});

describe('attacker: filters and cursors Postgres could not read', () => {
  test('every bad filter is named in one refusal, and nothing is built', () => {
    const message = refusal(() => query([
      { field: 'colour', operator: 'EQUALS', value: 'red' },
      { field: 'amount', operator: 'GREATER_THAN', value: 'lots' },
      { field: 'closeDate', operator: 'LESS_THAN', value: '2024-02-30' },
      { field: 'createdAt', operator: 'GREATER_THAN', value: '1' },
      { field: 'name', operator: 'CONTAINS', value: 5 },
      { field: 'name', operator: 'EQUALS', value: 'a\u0000b' },
      { field: 'name', operator: 'EQUALS', value: 'x'.repeat(MAX_FILTER_VALUE_LENGTH + 1) },
    ]));
    expect(message).toBe([
      'Deals has no field "colour" to filter by.',
      'GREATER_THAN on "amount" needs a numeric value.',
      'LESS_THAN on "closeDate" needs a date as YYYY-MM-DD.',
      'GREATER_THAN on "createdAt" needs a date-time value such as "2024-05-01" or "2024-05-01T10:00:00Z" (ISO 8601; UTC unless an offset is given).',
      'CONTAINS on "name" needs a text value.',
      'where[5].value (on "name") holds the control character U+0000.',
      `where[6].value (on "name") is ${MAX_FILTER_VALUE_LENGTH + 1} characters long; at most ${MAX_FILTER_VALUE_LENGTH} are allowed.`,
    ].join(' '));
  });

  test(`more than ${MAX_FILTERS} filters are refused`, () => {
    const many = Array.from({ length: MAX_FILTERS + 1 }, (): RecordFilter => ({ field: 'name', operator: 'IS_EMPTY' }));
    expect(refusal(() => query(many))).toBe(`where has ${MAX_FILTERS + 1} filters; at most ${MAX_FILTERS} are allowed.`);
  });

  test('sorting by a field the module does not have', () => {
    expect(refusal(() => query([], { field: 'colour', direction: 'ASC' }))).toBe('Deals has no field "colour" to sort by.');
  });

  test.each([
    ['a sort value of the wrong kind', encodeCursor(['lots', ID])],
    ['a 401-digit number', encodeCursor(['1'.repeat(401), ID])],
    ['an id that is not a UUID', encodeCursor(['1', 'x'])],
    ['the wrong number of parts', encodeCursor(['1'])],
    ['not base64 JSON at all', '%%%'],
  ])('a forged cursor (%s) is refused before any SQL is built', (_, cursor) => {
    const q = query([], { field: 'amount', direction: 'ASC' });
    expect(() => q.pageSql(10, cursor)).toThrow(BadUserInput);
    expect(q.params).toEqual(['Deals']);
  });
});
