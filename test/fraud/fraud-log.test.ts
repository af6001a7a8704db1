import { loadConfig } from '../../src/core/config';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * FRAUD_EVENTS_RETENTION_DAYS: every send, verification and refusal writes a fraud event, so a bot's flood of sends
 * (refused ones included) would grow the table for ever. Events older than the retention are deleted by an hourly
 * sweep; what the guard and the admin lists read inside the retention is untouched.
 */
const RETENTION_DAYS = 30;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('fraud_retention', { FRAUD_EVENTS_RETENTION_DAYS: String(RETENTION_DAYS) });
});
afterAll(() => t.close());

/** `n` events of `kind` written `daysAgo` days ago (by the database's clock), for prefix `prefix`. */
async function events(kind: 'SENT' | 'VERIFIED' | 'BLOCKED', n: number, daysAgo: number, prefix: string): Promise<void> {
  await t.sql(
    `INSERT INTO fraud_events (kind, reason, prefix, country, number_type, masked_number, channels, source, created_at)
     SELECT $1::varchar, CASE WHEN $1::varchar = 'BLOCKED' THEN 'PREFIX_BLOCKED' END, $3, 'IN', 'MOBILE', '+91******0000', '{SMS}', 'retention',
            now() - make_interval(days => $2) - make_interval(secs => g)
       FROM generate_series(1, $4) g`,
    [kind, daysAgo, prefix, n],
  );
}

const count = async (prefix: string) => (await t.sql('SELECT kind, count(*)::int AS n FROM fraud_events WHERE prefix = $1 GROUP BY kind ORDER BY kind', [prefix]));

const SUMMARY = `query($from: DateTimeISO) { conversionSummary(from: $from, first: 100) { nodes { country channel source sends verified blocked } } }`;

describe('attacker: a flood of sends grows the fraud log without bound', () => {
  test('events past the retention are deleted, every kind, in batches; those inside it stay, and so do the summaries over them', async () => {
    const prefix = '+9170000001';
    await events('SENT', 2_300, RETENTION_DAYS + 1, prefix);
    await events('BLOCKED', 700, RETENTION_DAYS + 5, prefix);
    await events('VERIFIED', 40, RETENTION_DAYS + 400, prefix);
    await events('SENT', 25, RETENTION_DAYS - 1, prefix); // just inside
    await events('VERIFIED', 5, 0, prefix);
    await events('BLOCKED', 3, 0, prefix);
    const from = new Date(Date.now() - (RETENTION_DAYS - 0.5) * 86_400_000).toISOString();
    const before = await t.gql(SUMMARY, { from });
    expect(before.body.data.conversionSummary.nodes).toContainEqual({ country: 'IN', channel: 'SMS', source: 'retention', sends: 25, verified: 5, blocked: 3 });

    // batches of 500, at most 3 per kind a sweep: the first sweep leaves 800 old SENT events, the next one takes them
    expect(await t.app.services.fraudAdmin.pruneOldEvents(500, 3)).toBe(1_500 + 700 + 40);
    expect(await count(prefix)).toEqual([{ kind: 'BLOCKED', n: 3 }, { kind: 'SENT', n: 825 }, { kind: 'VERIFIED', n: 5 }]);
    expect(await t.app.services.fraudAdmin.pruneOldEvents(500, 3)).toBe(800);
    expect(await count(prefix)).toEqual([{ kind: 'BLOCKED', n: 3 }, { kind: 'SENT', n: 25 }, { kind: 'VERIFIED', n: 5 }]);
    expect(await t.app.services.fraudAdmin.pruneOldEvents()).toBe(0);

    const after = await t.gql(SUMMARY, { from });
    expect(after.body).toEqual(before.body);
  });

  test('two sweeps at once (two instances) delete each old event once and neither fails', async () => {
    const prefix = '+9170000002';
    await events('SENT', 3_000, RETENTION_DAYS + 2, prefix);
    const old = `SELECT count(*)::int AS n FROM fraud_events WHERE created_at < now() - make_interval(days => ${RETENTION_DAYS})`;
    const [{ n: oldBefore }] = await t.sql(old);
    expect(oldBefore).toBeGreaterThanOrEqual(3_000);
    const [a, b] = await Promise.all([t.app.services.fraudAdmin.pruneOldEvents(200, 50), t.app.services.fraudAdmin.pruneOldEvents(200, 50)]);
    expect(a + b).toBe(oldBefore);
    expect(await count(prefix)).toEqual([]);
    expect(await t.sql(old)).toEqual([{ n: 0 }]);
  });

  test('the retention must outlive the prefix counters\' window, and 0 keeps every event', () => {
    expect(() => loadConfig({ FRAUD_EVENTS_RETENTION_DAYS: '1', FRAUD_PREFIX_WINDOW_SECONDS: String(2 * 86_400) }))
      .toThrow(/FRAUD_EVENTS_RETENTION_DAYS must cover FRAUD_PREFIX_WINDOW_SECONDS/);
    expect(loadConfig({ FRAUD_EVENTS_RETENTION_DAYS: '0', FRAUD_PREFIX_WINDOW_SECONDS: String(2 * 86_400) }).FRAUD_EVENTS_RETENTION_DAYS).toBe(0);
    expect(loadConfig({}).FRAUD_EVENTS_RETENTION_DAYS).toBe(90);
    expect(() => loadConfig({ FRAUD_EVENTS_RETENTION_DAYS: '-1' })).toThrow(/FRAUD_EVENTS_RETENTION_DAYS/);
  });
});

const BLOCKED_PAGE = `query($first: Int!, $after: String) { blockedSends(first: $first, after: $after, reason: PREFIX_BLOCKED) {
  nodes { id prefix } pageInfo { hasNextPage endCursor } totalCount } }`;
const BLOCKS_PAGE = `query($first: Int!, $after: String) { prefixBlocks(first: $first, after: $after, activeOnly: false) {
  nodes { id prefix } pageInfo { hasNextPage endCursor } } }`;

/** Every page of a list, `first` at a time, running `between` after each page (rows arriving while an admin reads). */
async function allPages(query: string, list: string, first: number, between: (page: number) => Promise<void> = async () => undefined): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const res: { body: any } = await t.gql(query, { first, after });
    expect(res.body.errors).toBeUndefined();
    const { nodes, pageInfo }: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } = res.body.data[list];
    ids.push(...nodes.map((n) => n.id));
    if (!pageInfo.hasNextPage) return ids;
    after = pageInfo.endCursor;
    await between(page);
  }
  throw new Error('more than 50 pages');
}

describe('admin: refusals and blocks keep arriving while an admin pages through them', () => {
  test('blockedSends pages continue where they stopped: no refusal twice, none skipped, ties of the same instant included', async () => {
    await t.sql('DELETE FROM fraud_events');
    const prefix = '+9170000003';
    await events('BLOCKED', 23, 0, prefix);
    // 12 refusals of the very same microsecond: only the id tells them apart
    await t.sql(`INSERT INTO fraud_events (kind, reason, prefix, channels, source, created_at)
      SELECT 'BLOCKED', 'PREFIX_BLOCKED', $1, '{SMS}', 'retention', now() - interval '1 hour' FROM generate_series(1, 12)`, [prefix]);
    const expected = (await t.sql(`SELECT id::text FROM fraud_events WHERE kind = 'BLOCKED' ORDER BY created_at DESC, id DESC`)).map((r) => r.id);
    const seen = await allPages(BLOCKED_PAGE, 'blockedSends', 5, async () => { await events('BLOCKED', 3, 0, '+9170000004'); }); // newer ones arrive
    expect(seen).toEqual(expected);
  });

  test('prefixBlocks pages the same way', async () => {
    await t.sql(`INSERT INTO fraud_prefix_blocks (prefix, level, reason, sends, verified, expires_at, created_at)
      SELECT '+91800' || lpad(g::text, 5, '0'), 1, 'test', 20, 0, now() + interval '1 hour', now() - make_interval(secs => g % 4) FROM generate_series(1, 17) g`);
    const expected = (await t.sql('SELECT id::text FROM fraud_prefix_blocks ORDER BY created_at DESC, id DESC')).map((r) => r.id);
    const seen = await allPages(BLOCKS_PAGE, 'prefixBlocks', 4, async (page) => {
      await t.sql(`INSERT INTO fraud_prefix_blocks (prefix, level, reason, sends, verified, expires_at) VALUES ($1, 1, 'test', 20, 0, now() + interval '1 hour')`, [`+9181${page}000`]);
    });
    expect(seen).toEqual(expected);
  });

  test('attacker: a cursor of another list, a made-up one, or one with a bad date is BAD_USER_INPUT naming after, and nothing runs', async () => {
    const blocksCursor = (await t.gql(BLOCKS_PAGE, { first: 1 })).body.data.prefixBlocks.pageInfo.endCursor;
    const forged = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    for (const after of [blocksCursor, forged(['BlockedSend', 'not a date', '1']), forged(['BlockedSend', '2026-12-01 10:00:00+00', '1; DROP TABLE x']),
      forged(['BlockedSend', '2026-12-01 10:00:00+00', '1', 'extra']), forged(['BlockedSend', '2026-12-01 10:00:00+00', '9'.repeat(19)]), forged([3]), 'not base64 at all ✓']) {
      const res = await t.gql(BLOCKED_PAGE, { first: 5, after });
      expect(res.body.data).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
    }
  });
});
