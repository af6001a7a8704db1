import { createOtpRule, listAll, listPage, type PageShape } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The five admin lists (otpRules, users, apiKeys, messageTemplates, connectionTypes) page like every other list:
 * `XPage`, first 1–100, keyset cursors, filters. Expected orders are read from the database in the same test.
 */
let t: TestServer;
let userKey: string;
let reader: { key: string; userId: string };

beforeAll(async () => {
  t = await startTestServer('admin_lists', { OTP_RULES_LIMIT: '50' });
  for (let i = 0; i < 7; i += 1) {
    await createOtpRule(t, {
      name: `List rule ${i}`, module: i % 2 ? 'Invoices' : 'Deals', active: i % 3 !== 0, channels: ['EMAIL'],
      conditions: [{ match: 'ALL', conditions: [{ field: i % 2 ? 'status' : 'stage', operator: 'IS_NOT_EMPTY' }] }],
    });
  }
  userKey = (await t.keyFor('USER')).key;
  for (let i = 0; i < 3; i += 1) await t.keyFor('USER');
  reader = await t.keyFor('READONLY');
  await t.keyFor('READONLY');
  // a second key for the reader, one revoked and one expired key, a deactivated user
  for (const name of ['second', 'revoked', 'expired']) {
    await t.gql('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { userId: reader.userId, name } });
  }
  await t.sql(`UPDATE api_keys SET revoked_at = now() WHERE name = 'revoked'`);
  await t.sql(`UPDATE api_keys SET expires_at = now() - interval '1 day' WHERE name = 'expired'`);
  await t.sql(`UPDATE users SET active = false WHERE id = (SELECT id FROM users WHERE role = 'USER' ORDER BY email DESC LIMIT 1)`);
  for (const [id, channel] of [['list_sms_a', 'SMS'], ['list_sms_b', 'SMS'], ['list_email', 'EMAIL'], ['list_wa', 'WHATSAPP']]) {
    await t.gql('mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { userErrors { message } } }',
      { input: { id, channel, subject: channel === 'EMAIL' ? 'Code' : null, body: 'Your code is {{otp}}' } });
  }
  for (const [name, active, modules] of [['alpha', true, ['Contacts']], ['Beta', true, ['Organizations']], ['gamma', false, ['Contacts']], ['Delta', true, ['Vendors']]] as const) {
    const res = await t.gql('mutation($input: CreateConnectionTypeInput!) { createConnectionType(input: $input) { connectionType { id } userErrors { message } } }',
      { input: { name, inverseName: `${name} of`, sourceModules: ['Contacts'], targetModules: modules } });
    if (!active) {
      await t.gql('mutation($id: ID!) { updateConnectionType(id: $id, input: { active: false }) { userErrors { message } } }', { id: res.body.data.createConnectionType.connectionType.id });
    }
  }
});
afterAll(() => t.close());

interface ListCase {
  list: string;
  /** The list's order and filter, as SQL over its table. */
  expected: (where?: string) => string;
  adminOnly: boolean;
}

const LISTS: ListCase[] = [
  { list: 'otpRules', expected: (w = 'true') => `SELECT id::text FROM otp_rules WHERE ${w} ORDER BY id`, adminOnly: true },
  { list: 'users', expected: (w = 'true') => `SELECT id::text FROM users WHERE ${w} ORDER BY email`, adminOnly: true },
  { list: 'apiKeys', expected: (w = 'true') => `SELECT id::text FROM api_keys WHERE ${w} ORDER BY created_at DESC, id DESC`, adminOnly: true },
  { list: 'messageTemplates', expected: (w = 'true') => `SELECT id FROM message_templates WHERE ${w} ORDER BY id`, adminOnly: true },
  { list: 'connectionTypes', expected: (w = 'active') => `SELECT id::text FROM connection_types WHERE ${w} ORDER BY is_system DESC, lower(name), id`, adminOnly: false },
];

const ids = (rows: Array<{ id: string | number }>) => rows.map((r) => String(r.id));

async function walk(list: string, first: number, filter?: Record<string, unknown> | null): Promise<{ seen: string[]; totalCount: number }> {
  const seen: string[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let pages = 0; pages < 200; pages += 1) {
    const page: PageShape<{ id: string }> = await listPage(t, list, 'id', { filter, first, after });
    expect(page.nodes.length).toBeLessThanOrEqual(first);
    seen.push(...ids(page.nodes));
    totalCount = page.totalCount;
    if (!page.pageInfo.hasNextPage) return { seen, totalCount };
    after = page.pageInfo.endCursor;
  }
  throw new Error('more than 200 pages');
}

async function badInput(list: string, args: { first?: number; after?: string; filter?: Record<string, unknown> }): Promise<unknown> {
  const res = await t.gql(`query($first: Int!, $after: String) { ${list}(first: $first, after: $after) { nodes { id } } }`, { first: args.first ?? 5, after: args.after ?? null });
  return res.body.errors?.[0]?.extensions?.code;
}

describe.each(LISTS)('$list pages like every list', ({ list, expected }) => {
  test.each([1, 3, 100])('first=%i walks every item exactly once, in the index order, with totalCount', async (first) => {
    const { seen, totalCount } = await walk(list, first);
    const all = ids(await t.sql(expected()));
    expect(seen).toEqual(all);
    expect(totalCount).toBe(all.length);
    expect(all.length).toBeGreaterThan(3);
  });

  test('first at and past its bounds: 0 and 101 are BAD_USER_INPUT, 100 is a page', async () => {
    expect(await badInput(list, { first: 0 })).toBe('BAD_USER_INPUT');
    expect(await badInput(list, { first: 101 })).toBe('BAD_USER_INPUT');
    expect(await badInput(list, { first: -1 })).toBe('BAD_USER_INPUT');
    expect((await listPage(t, list, 'id', { first: 100 })).nodes.length).toBeLessThanOrEqual(100);
  });

  test('attacker: a made-up cursor, a forged one and another list\'s cursor are BAD_USER_INPUT, not a server error', async () => {
    const forged = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    for (const after of ['garbage', forged([]), forged(['OtpRule', "1'; DROP TABLE users; --"]), forged(['OtpRule', 2 ** 53 - 1]), forged(['OtpRule', 1.5]), forged(['User', 'a\u0000b']),
      forged(['ApiKey', 'not a date', '00000000-0000-4000-8000-000000000001']), forged(['ConnectionType', 'yes', 'a', 'b'])]) {
      expect(await badInput(list, { after })).toBe('BAD_USER_INPUT');
    }
    for (const other of LISTS.filter((l) => l.list !== list)) {
      const cursor = (await listPage(t, other.list, 'id', { first: 1 })).pageInfo.endCursor!;
      expect(await badInput(list, { after: cursor })).toBe('BAD_USER_INPUT');
    }
  });
});

describe('filters an admin uses', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['otpRules', { module: 'deals' }, `module = 'Deals'`],
    ['otpRules', { active: false }, 'NOT active'],
    ['otpRules', { module: 'Invoices', active: true }, `module = 'Invoices' AND active`],
    ['users', { role: 'READONLY' }, `role = 'READONLY'`],
    ['users', { active: false }, 'NOT active'],
    ['apiKeys', { status: 'REVOKED' }, 'revoked_at IS NOT NULL'],
    ['apiKeys', { status: 'EXPIRED' }, 'revoked_at IS NULL AND expires_at <= now()'],
    ['apiKeys', { status: 'ACTIVE' }, 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())'],
    ['messageTemplates', { channel: 'SMS' }, `channel = 'SMS'`],
    ['connectionTypes', { module: 'Organizations' }, `active AND ('Organizations' = ANY(source_modules) OR 'Organizations' = ANY(target_modules))`],
    ['connectionTypes', { active: false }, 'NOT active'],
    ['connectionTypes', { active: null }, 'true'],
  ];
  test.each(cases)('%s(filter: %j)', async (list, filter, where) => {
    const { seen, totalCount } = await walk(list, 2, filter);
    const all = ids(await t.sql(LISTS.find((l) => l.list === list)!.expected(where)));
    expect(all.length).toBeGreaterThan(0);
    expect(seen).toEqual(all);
    expect(totalCount).toBe(all.length);
  });

  test('apiKeys of one user; an id that is not a UUID names nobody', async () => {
    const keys = await listAll(t, 'apiKeys', 'id name user { id }', { userId: reader.userId });
    expect(keys.map((k) => k.name).sort()).toEqual(['expired', 'revoked', 'second', 'test']);
    expect(keys.every((k) => k.user.id === reader.userId)).toBe(true);
    expect(await listAll(t, 'apiKeys', 'id', { userId: 'nobody' })).toEqual([]);
    expect(await listAll(t, 'apiKeys', 'id', { userId: reader.userId, status: 'ACTIVE' })).toHaveLength(2);
  });

  test('connectionTypes(filter: { module }) refuses a module connections cannot use, naming it', async () => {
    const res = await t.gql('{ connectionTypes(filter: { module: "Invoices" }) { nodes { id } } }');
    expect(res.body.errors[0]).toMatchObject({ message: expect.stringContaining('"Invoices" cannot be connected'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  test('another filter\'s cursor is a position in the same order: the next page under the new filter starts after it', async () => {
    const deals = await listPage(t, 'otpRules', 'id', { filter: { module: 'Deals' }, first: 1 });
    const [afterId] = ids(deals.nodes);
    const invoices = await listAll(t, 'otpRules', 'id', { module: 'Invoices' });
    const next = await listPage(t, 'otpRules', 'id', { filter: { module: 'Invoices' }, first: 100, after: deals.pageInfo.endCursor });
    expect(ids(next.nodes)).toEqual(ids(invoices).filter((id) => Number(id) > Number(afterId)));
    expect(ids(await t.sql(`SELECT id::text FROM otp_rules WHERE module = 'Invoices' AND id > $1 ORDER BY id`, [afterId]))).toEqual(ids(next.nodes));
  });
});

describe('attacker: a non-admin reading the admin lists', () => {
  test.each(LISTS.filter((l) => l.adminOnly).map((l) => l.list))('%s is FORBIDDEN for USER and READONLY keys', async (list) => {
    for (const key of [userKey, reader.key]) {
      const res = await t.gql(`{ ${list} { nodes { id } totalCount } }`, {}, { key });
      expect(res.body.data).toBeNull();
      expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
  });

  test('connectionTypes stays readable by every user (records need it), active types only by default', async () => {
    const seen = await listAll(t, 'connectionTypes', 'id active', null, { key: reader.key });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((c) => c.active)).toBe(true);
  });
});

describe('the list orders are index-backed', () => {
  test.each([
    ['apiKeys, newest first', 'SELECT id FROM api_keys ORDER BY created_at DESC, id DESC LIMIT 21', 'IDX_api_keys_created'],
    ['apiKeys of one user', `SELECT id FROM api_keys WHERE user_id = '00000000-0000-4000-8000-000000000001' ORDER BY created_at DESC, id DESC LIMIT 21`, 'IDX_api_keys_user_created'],
    ['connectionTypes', 'SELECT id FROM connection_types WHERE active ORDER BY NOT is_system, lower(name), id LIMIT 21', 'IDX_connection_types_listing'],
    ['users by email', 'SELECT id FROM users ORDER BY email LIMIT 21', 'UQ_users_email'],
    ['otpRules by id', 'SELECT id FROM otp_rules ORDER BY id LIMIT 21', 'PK_'],
    ['messageTemplates by id', 'SELECT id FROM message_templates ORDER BY id LIMIT 21', 'PK_'],
  ])('%s', async (_what, query, index) => {
    // with sequential scans priced out, the planner shows whether an index can give this order at all (tiny tables get seq scans otherwise)
    await t.sql('SET enable_seqscan = off');
    await t.sql('SET enable_sort = off');
    try {
      const plan = (await t.sql(`EXPLAIN ${query}`)).map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain(index);
      expect(plan).not.toMatch(/\bSort\b/);
    } finally {
      await t.sql('RESET enable_seqscan');
      await t.sql('RESET enable_sort');
    }
  });
});
