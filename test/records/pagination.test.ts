import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
const TOTAL = 45;
beforeAll(async () => {
  t = await startTestServer('pagination');
  const rows = Array.from({ length: TOTAL }, (_, i) => ({ name: `Org ${String(i).padStart(2, '0')}`, employees: i % 7 === 0 ? null : i * 10, industry: i % 2 ? 'Retail' : 'Banking' }));
  const res = await t.gql('mutation($rows: [JSONObject!]!) { importRecords(module: "Organizations", rows: $rows) { importedCount failedCount } }', { rows });
  expect(res.body.data.importRecords).toEqual({ importedCount: TOTAL, failedCount: 0 });
});
afterAll(() => t.close());

const PAGE = `query($first: Int!, $after: String, $orderBy: RecordOrderInput, $where: [RecordFilterInput!]) {
  records(module: "Organizations", first: $first, after: $after, orderBy: $orderBy, where: $where) {
    totalCount nodes { id label fields } edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}`;

async function walk(first: number, orderBy?: object, where?: object[]) {
  const seen: Array<{ id: string; label: string; fields: Record<string, unknown> }> = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i += 1) {
    const res: any = await t.gql(PAGE, { first, after, orderBy, where });
    expect(res.body.errors).toBeUndefined();
    const page: any = res.body.data.records;
    expect(page.nodes.length).toBeLessThanOrEqual(first);
    expect(page.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(page.nodes.map((n: { id: string }) => n.id));
    seen.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return { seen, totalCount: page.totalCount };
    after = page.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

describe('pagination: successful cases', () => {
  test.each([1, 7, 20, 45, 100])('first=%i walks every record exactly once, newest first by default', async (first) => {
    const { seen, totalCount } = await walk(first);
    expect(totalCount).toBe(TOTAL);
    expect(new Set(seen.map((r) => r.id)).size).toBe(TOTAL);
    expect(seen).toHaveLength(TOTAL);
  });

  test('ordering by a text field ascending', async () => {
    const { seen } = await walk(10, { field: 'name', direction: 'ASC' });
    expect(seen.map((r) => r.label)).toEqual([...seen.map((r) => r.label)].sort());
  });

  test('ordering by a number field with empty values keeps every row once', async () => {
    const { seen } = await walk(6, { field: 'employees', direction: 'DESC' });
    expect(seen).toHaveLength(TOTAL);
    const numbers = seen.map((r) => (r.fields.employees as number | undefined) ?? -Infinity);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
  });

  test('filters combine, and totalCount counts the filtered set', async () => {
    const { seen, totalCount } = await walk(5, undefined, [
      { field: 'industry', operator: 'EQUALS', value: 'Retail' },
      { field: 'employees', operator: 'GREATER_THAN', value: 200 },
    ]);
    expect(seen.every((r) => r.fields.industry === 'Retail' && (r.fields.employees as number) > 200)).toBe(true);
    expect(totalCount).toBe(seen.length);
    expect(seen.length).toBeGreaterThan(0);
  });

  test('an empty result has no cursor and no next page', async () => {
    const res = await t.gql(PAGE, { first: 5, where: [{ field: 'name', operator: 'CONTAINS', value: 'zzz%_' }] });
    expect(res.body.data.records).toMatchObject({ totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
});

describe('pagination: failing cases', () => {
  test.each([0, -1, 101, 1000])('first=%i is BAD_USER_INPUT', async (first) => {
    const res = await t.gql(PAGE, { first });
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.data).toBeNull();
  });

  test('a forged cursor is BAD_USER_INPUT, not a server error', async () => {
    for (const after of ['garbage', Buffer.from('["x","not-a-uuid"]').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
      const res = await t.gql(PAGE, { first: 5, after, orderBy: { field: 'employees', direction: 'ASC' } });
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  test('unknown fields and mistyped filter values are BAD_USER_INPUT', async () => {
    const cases = [
      { orderBy: { field: 'shoeSize', direction: 'ASC' } },
      { where: [{ field: 'shoeSize', operator: 'EQUALS', value: 1 }] },
      { where: [{ field: 'employees', operator: 'GREATER_THAN', value: 'many' }] },
    ];
    for (const vars of cases) {
      const res = await t.gql(PAGE, { first: 5, ...vars });
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  test('importRecords reports errors per row and saves only the valid rows', async () => {
    const before = await t.sql("SELECT count(*)::int AS n FROM records WHERE module = 'Deals'");
    const res = await t.gql('mutation($rows: [JSONObject!]!) { importRecords(module: "Deals", rows: $rows) { importedCount failedCount rows { row record { label } userErrors { field code } } } }', {
      rows: [{ name: 'Good', stage: 'Proposal' }, { name: 'Bad stage', stage: 'Dreaming' }, { stage: 'Proposal' }, { name: 'Also good', stage: 'Closed Won', amount: 12.5 }],
    });
    const payload = res.body.data.importRecords;
    expect(payload).toMatchObject({ importedCount: 2, failedCount: 2 });
    expect(payload.rows[1].userErrors).toEqual([{ field: ['fields', 'stage'], code: 'INVALID' }]);
    expect(payload.rows[2].userErrors).toEqual([{ field: ['fields', 'name'], code: 'REQUIRED' }]);
    expect(payload.rows.map((r: { record: { label: string } | null }) => r.record?.label ?? null)).toEqual(['Good', null, null, 'Also good']);
    expect((await t.sql("SELECT count(*)::int AS n FROM records WHERE module = 'Deals'"))[0].n).toBe(before[0].n + 2);
  });
});
