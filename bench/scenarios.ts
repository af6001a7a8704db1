import { randomUUID } from 'node:crypto';
import { CodeHasher } from '../src/otp/codes';

export interface BenchContext {
  adminKey: string;
  /** This run's database (its Postgres backends are measured). */
  database: string;
  /** The server's SECRET_KEY: seeds OTP requests whose code hashes the server accepts. */
  secretKey: string;
  /** About as many requests as the fastest scenario can make in one warm-up + measurement (sizes one-shot seeds). */
  requestsExpected: number;
  sql(text: string, params?: unknown[]): Promise<any[]>;
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  /** What setups leave for requests (ids to pick from). */
  state: Record<string, any>;
}

export interface BenchRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Called per request, so each can differ (a random record, a distinct recipient). */
  body(): string;
}

export interface Scenario {
  name: string;
  target: 'app' | 'ceiling-insert' | 'ceiling-apollo';
  /** For scenarios whose answer is a refusal by design (a wrong code): the smoke check's test; 5xx only count as errors. */
  accept?(status: number, body: string): boolean;
  expectStatus?: boolean;
  setup?(ctx: BenchContext): Promise<void>;
  request(ctx: BenchContext): BenchRequest;
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

function graphql(ctx: BenchContext, query: string, variables: () => Record<string, unknown> = () => ({})): BenchRequest {
  return {
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.adminKey}` },
    body: () => JSON.stringify({ query, variables: variables() }),
  };
}

async function importRows(ctx: BenchContext, module: string, rows: Array<Record<string, unknown>>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const data = await ctx.gql(`mutation($m: String!, $rows: [JSONObject!]!) { importRecords(module: $m, rows: $rows) { rows { record { id } } } }`, { m: module, rows: rows.slice(i, i + 1000) });
    ids.push(...data.importRecords.rows.map((r: { record: { id: string } }) => r.record.id));
  }
  return ids;
}

const UPDATE_DEAL = `mutation($id: ID!, $fields: JSONObject!) { updateRecord(id: $id, fields: $fields) { record { id version } userErrors { code } } }`;

/** 1,000 active rules on Deals that a change of amount never matches, added in one statement and announced. */
async function addDealRules(ctx: BenchContext, count: number): Promise<void> {
  await ctx.sql(
    `INSERT INTO otp_rules (name, sanitized_key, module, conditions, channels)
     SELECT 'Bench rule ' || n, 'benchrule' || n, 'Deals',
            jsonb_build_array(jsonb_build_object('match', 'ALL', 'conditions', jsonb_build_array(
              jsonb_build_object('field', 'stage', 'operator', 'HAS_CHANGED_TO', 'value', 'Closed Won'),
              jsonb_build_object('field', 'probability', 'operator', 'GREATER_THAN', 'value', n)))),
            '{EMAIL}'
       FROM generate_series(1, $1) AS n`,
    [count],
  );
  await ctx.sql(`SELECT pg_notify('countersign_otp_rules_changed', '')`);
  const [{ n }] = await ctx.sql(`SELECT count(*)::int AS n FROM otp_rules WHERE active AND module = 'Deals'`);
  if (n !== count) throw new Error(`expected ${count} active Deals rules, found ${n}`);
}

const REPORTS_TO = '00000000-0000-4000-8100-000000000003';
const KNOWS = '00000000-0000-4000-8100-000000000004';
export const BENCH_CODE = '123456';

/** A random Indian mobile (9xxxxxxxxx): the fraud guard refuses fixed lines, so sends stay in the mobile range. */
const randomMobile = () => String(9_000_000_000 + Math.floor(Math.random() * 999_999_999));

/** GraphQL sendOtp to a random mobile (a new purpose each time: no supersede). */
export function sendOtpRequest(ctx: BenchContext, source: string): BenchRequest {
  return graphql(ctx, SEND_OTP, () => ({ input: { mobileNo: randomMobile(), channels: ['SMS'], source, type: 'simple_otp' } }));
}

/**
 * `count` pending OTP requests with code BENCH_CODE, one per distinct mobile, written straight into the table (the
 * same rows a send writes, hashed with the server's key) so a seed of 10⁵ takes seconds, not minutes.
 */
async function seedOtps(ctx: BenchContext, source: string, count: number, maxAttempts: number): Promise<string[]> {
  const hasher = new CodeHasher(ctx.secretKey);
  const [{ user_id: userId }] = await ctx.sql('SELECT user_id FROM api_keys ORDER BY created_at LIMIT 1');
  const base = 7_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, count - offset) }, () => randomUUID());
    await ctx.sql(
      `INSERT INTO otp_requests (id, channels, mobile, source, type, code_length, code_type, code_hash, expires_at, max_attempts, max_resends,
         resend_cooldown_seconds, resend_mode, validity_seconds, user_id)
       SELECT t.id, '{SMS}', t.mobile, $4, 'simple_otp', 6, 'NUMERIC', t.hash, now() + interval '1 hour', $5, 3, 30, 'NEW_CODE', 3600, $6
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, hash, mobile)`,
      [chunk, chunk.map((id) => hasher.hash(id, BENCH_CODE)), chunk.map((_, i) => `+91${base + offset + i}`), source, maxAttempts, userId],
    );
    ids.push(...chunk);
  }
  return ids;
}

const SEND_OTP = `mutation($input: SendOtpInput!) { sendOtp(input: $input) { otpRequest { id status expiresAt } userErrors { code } } }`;
const VERIFY_OTP = `mutation($input: VerifyOtpInput!) { verifyOtp(input: $input) { verified userErrors { code } } }`;
const RECORD_CONNECTIONS = `query($id: ID!) { record(id: $id) { id connections(first: 20) { totalCount nodes { label direction status type { name } otherRecord { id label } } } } }`;

/** Parallel GraphQL calls, `concurrency` at a time, for seeding. */
async function inParallel<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  }));
  return results;
}

/** Adds connections among `records` with a plain INSERT … SELECT (the exclusion constraint still checks each row). */
async function addConnections(ctx: BenchContext, records: string[], count: number, offset: number): Promise<void> {
  const n = records.length;
  await ctx.sql(
    `INSERT INTO connections (type_id, source_id, target_id, created_by)
     SELECT $1, ids[1 + (k % $3)], ids[1 + ((k / $3 + 1 + k % $3) % $3)], '00000000-0000-4000-8000-000000000001'
       FROM (SELECT $2::uuid[] AS ids) s, generate_series($4::bigint, $4::bigint + $5 - 1) AS k
      WHERE (k / $3 + 1) % $3 <> 0`,
    [REPORTS_TO, records, n, offset, count],
  );
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'ceiling: bare http + INSERT',
    target: 'ceiling-insert',
    request: () => ({ method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: () => 'x' }),
  },
  {
    name: 'ceiling: bare express + Apollo',
    target: 'ceiling-apollo',
    request: () => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: () => JSON.stringify({ query: '{ ping }' }) }),
  },
  {
    name: 'trivial query',
    target: 'app',
    request: (ctx) => graphql(ctx, '{ __typename }'),
  },
  {
    name: 'updateRecord, 0 rules',
    target: 'app',
    async setup(ctx) {
      ctx.state.deals = await importRows(ctx, 'Deals', Array.from({ length: 1000 }, (_, i) => ({ name: `Deal ${i}`, stage: 'Proposal', amount: i })));
    },
    request: (ctx) => graphql(ctx, UPDATE_DEAL, () => ({ id: pick(ctx.state.deals), fields: { amount: Math.round(Math.random() * 1e6) / 100 } })),
  },
  {
    name: 'updateRecord, 1,000 rules',
    target: 'app',
    setup: (ctx) => addDealRules(ctx, 1000),
    request: (ctx) => graphql(ctx, UPDATE_DEAL, () => ({ id: pick(ctx.state.deals), fields: { amount: Math.round(Math.random() * 1e6) / 100 } })),
  },
  {
    name: 'page of 100 records',
    target: 'app',
    async setup(ctx) {
      await importRows(ctx, 'Contacts', Array.from({ length: 1000 }, (_, i) => ({ firstName: `F${i}`, lastName: `Contact ${i}`, email: `c${i}@example.com` })));
    },
    request: (ctx) => graphql(ctx, `{ records(module: "Contacts", first: 100) { nodes { id label version fields owner { email } } pageInfo { endCursor } } }`),
  },
  {
    name: 'page of 100 records with connections',
    target: 'app',
    async setup(ctx) {
      const people = await importRows(ctx, 'Contacts', Array.from({ length: 200 }, (_, i) => ({ lastName: `Person ${String(i).padStart(3, '0')}` })));
      await ctx.sql(
        `INSERT INTO connections (type_id, source_id, target_id, "symmetric", created_by)
         SELECT $1, p.ids[i], p.ids[1 + (i % 200)], true, '00000000-0000-4000-8000-000000000001'
           FROM (SELECT $2::uuid[] AS ids) p, generate_series(1, 200) AS i`,
        [KNOWS, people],
      );
      await addConnections(ctx, people, 400, 0);
    },
    // only its own records (STARTS_WITH): run after 'page of 100 records', whose contacts ('Contact 0'…) sort first and
    // have no connections, the page used to hold none of these and measured a page without connections (until 2026-12-01)
    request: (ctx) => graphql(ctx, `{ records(module: "Contacts", first: 100, orderBy: { field: "lastName", direction: ASC }, where: [{ field: "lastName", operator: STARTS_WITH, value: "Person " }]) {
      nodes { id label connections(first: 10) { totalCount nodes { label direction status type { name inverseName } otherRecord { id module label } } } }
    } }`),
  },
  {
    name: 'sendOtp',
    target: 'app',
    request: (ctx) => sendOtpRequest(ctx, 'bench'),
  },
  {
    name: 'REST send-otp',
    target: 'app',
    request: (ctx) => ({
      method: 'POST',
      path: '/api/send-otp',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.adminKey}` },
      body: () => JSON.stringify({ mobile_no: randomMobile(), channel: 'sms', source: 'bench_rest', type: 'simple_otp' }),
    }),
  },
  {
    name: 'verifyOtp',
    target: 'app',
    async setup(ctx) {
      ctx.state.otpIds = await seedOtps(ctx, 'bench_verify', ctx.requestsExpected, 5);
      ctx.state.nextOtp = 0;
    },
    request: (ctx) => graphql(ctx, VERIFY_OTP, () => ({ input: { otpRequestId: ctx.state.otpIds[ctx.state.nextOtp++ % ctx.state.otpIds.length], code: BENCH_CODE } })),
  },
  {
    name: 'verifyOtp, wrong code',
    target: 'app',
    accept: (status, body) => status === 200 && /"code":"OTP_INVALID"/.test(body),
    async setup(ctx) {
      // a large attempt cap, so every guess of the run is a counted wrong code (none reaches the locked path)
      ctx.state.wrongIds = await seedOtps(ctx, 'bench_wrong', 5000, 1_000_000);
      ctx.state.nextWrong = 0;
    },
    request: (ctx) => graphql(ctx, VERIFY_OTP, () => ({ input: { otpRequestId: ctx.state.wrongIds[ctx.state.nextWrong++ % ctx.state.wrongIds.length], code: '654321' } })),
  },
  {
    name: 'record.connections among 10^3',
    target: 'app',
    async setup(ctx) {
      await ctx.sql('DELETE FROM connections');
      ctx.state.crowd = await importRows(ctx, 'Contacts', Array.from({ length: 2000 }, (_, i) => ({ lastName: `Crowd ${i}` })));
      await addConnections(ctx, ctx.state.crowd, 1000, 0);
      ctx.state.probe = ctx.state.crowd.slice(0, 50);
      const [{ n }] = await ctx.sql('SELECT count(*)::int AS n FROM connections');
      if (n < 900) throw new Error(`expected about 10^3 connections, found ${n}`);
    },
    request: (ctx) => graphql(ctx, RECORD_CONNECTIONS, () => ({ id: pick(ctx.state.probe) })),
  },
  {
    name: 'record.connections among 10^6',
    target: 'app',
    async setup(ctx) {
      // 999,000 more among the other records (pairs 2+ apart, so none repeats a pair above): the probed records keep
      // exactly the connections they had, only the table grows a thousandfold.
      const others = ctx.state.crowd.slice(50);
      for (let added = 0; added < 999_000; added += 111_000) await addConnections(ctx, others, 111_000, others.length + added);
      const [{ n }] = await ctx.sql('SELECT count(*)::int AS n FROM connections');
      if (n < 990_000) throw new Error(`expected about 10^6 connections, found ${n}`);
    },
    request: (ctx) => graphql(ctx, RECORD_CONNECTIONS, () => ({ id: pick(ctx.state.probe) })),
  },
];

const WORKS_AT = '00000000-0000-4000-8100-000000000006';
const ADMIN_ID = '00000000-0000-4000-8000-000000000001';
const PATHS_4 = `query($from: ID!, $to: ID!) { connectionPaths(from: $from, to: $to, maxHops: 4, first: 5) { hops steps { label connectionId } recordIds } }`;
const CONFLICTS = `query($id: ID!, $against: [ID!]!) { conflictCheck(recordId: $id, against: $against, maxHops: 3) { recordId linked path { hops } } }`;
const CONNECTED_PAGE = `query($org: ID!) { records(module: "Contacts", first: 20, orderBy: { field: "label", direction: ASC },
  where: [{ connected: { typeId: "${WORKS_AT}", side: SOURCE, to: $org, activeOn: "2024-06-01" } }, { field: "lastName", operator: STARTS_WITH, value: "Graph" }]) {
  nodes { id label } pageInfo { endCursor hasNextPage } } }`;

/**
 * A graph of 10⁶ connections for path searches and connected filters, seeded in SQL: 100,000 contacts and 10,000
 * organizations; each contact works at one organization (10 colleagues each) and knows the 9 contacts after it.
 * Self-contained (its own records), so it can run alone: `npm run bench -- 'connectionPaths 4 hops among 10^6'`.
 */
async function seedGraph(ctx: BenchContext): Promise<void> {
  if (ctx.state.graph) return;
  const contacts = 100_000;
  const orgs = 10_000;
  const people = (await ctx.sql(
    `INSERT INTO records (module, fields, label, owner_id)
     SELECT 'Contacts', jsonb_build_object('lastName', 'Graph ' || lpad(n::text, 6, '0')), 'Graph ' || lpad(n::text, 6, '0'), $1
       FROM generate_series(1, $2) AS n RETURNING id`, [ADMIN_ID, contacts])).map((r) => r.id as string);
  const companies = (await ctx.sql(
    `INSERT INTO records (module, fields, label, owner_id)
     SELECT 'Organizations', jsonb_build_object('name', 'Graph Org ' || n), 'Graph Org ' || n, $1
       FROM generate_series(1, $2) AS n RETURNING id`, [ADMIN_ID, orgs])).map((r) => r.id as string);
  await ctx.sql(
    `INSERT INTO connections (type_id, source_id, target_id, start_date, created_by)
     SELECT $1, p.ids[i], o.ids[1 + (i % $4)], '2020-01-01', $5
       FROM (SELECT $2::uuid[] AS ids) p, (SELECT $3::uuid[] AS ids) o, generate_series(1, $6) AS i`,
    [WORKS_AT, people, companies, orgs, ADMIN_ID, contacts]);
  for (let j = 1; j <= 9; j += 1) {
    await ctx.sql(
      `INSERT INTO connections (type_id, source_id, target_id, "symmetric", created_by)
       SELECT $1, p.ids[i], p.ids[1 + ((i - 1 + $3) % $4)], true, $5 FROM (SELECT $2::uuid[] AS ids) p, generate_series(1, $4) AS i`,
      [KNOWS, people, j, contacts, ADMIN_ID]);
  }
  const [{ n }] = await ctx.sql(`SELECT count(*)::int AS n FROM connections WHERE source_id = ANY($1::uuid[])`, [people]);
  if (n !== 1_000_000) throw new Error(`expected 10^6 graph connections, found ${n}`);
  await ctx.sql('ANALYZE connections');
  await ctx.sql('ANALYZE records');
  ctx.state.graph = { people, companies };
}

SCENARIOS.push(
  {
    name: 'connectionPaths 4 hops among 10^6',
    target: 'app',
    setup: seedGraph,
    // half the pairs are colleagues' friends (linked within 4 hops), half random contacts (mostly not linked: the full search)
    request: (ctx) => graphql(ctx, PATHS_4, () => {
      const { people } = ctx.state.graph;
      const i = Math.floor(Math.random() * people.length);
      const j = Math.random() < 0.5 ? (i + 10_000 + 1 + Math.floor(Math.random() * 8)) % people.length : Math.floor(Math.random() * people.length);
      return { from: people[i], to: people[j === i ? (i + 1) % people.length : j] };
    }),
  },
  {
    name: 'conflictCheck 100 against, 3 hops, among 10^6',
    target: 'app',
    setup: seedGraph,
    request: (ctx) => graphql(ctx, CONFLICTS, () => {
      const { people } = ctx.state.graph;
      const i = Math.floor(Math.random() * (people.length - 200));
      return { id: people[i], against: people.slice(i + 1, i + 101) };
    }),
  },
  {
    name: 'records page filtered by connection among 10^6',
    target: 'app',
    setup: seedGraph,
    request: (ctx) => graphql(ctx, CONNECTED_PAGE, () => ({ org: pick(ctx.state.graph.companies) })),
  },
);

const MERGE_PAIR = `mutation($survivorId: ID!, $mergedIds: [ID!]!) {
  mergeRecords(survivorId: $survivorId, mergedIds: $mergedIds) { record { id version } connections { outcome } userErrors { code } }
}`;
const MERGE_PAIRS = 6000;

SCENARIOS.push({
  // each request merges a fresh duplicate pair: one connection folds (both work at the same organization, overlapping
  // dates), one moves (the duplicate's other employer); pairs are not reused, so a run longer than MERGE_PAIRS requests
  // shows up as errors
  name: 'mergeRecords, a pair with 3 connections',
  target: 'app',
  async setup(ctx) {
    const orgs = await importRows(ctx, 'Organizations', Array.from({ length: 100 }, (_, i) => ({ name: `Merge Org ${i}` })));
    const people = await importRows(ctx, 'Contacts', Array.from({ length: MERGE_PAIRS * 2 }, (_, i) => ({ lastName: `Twin ${Math.floor(i / 2)}` })));
    await ctx.sql(
      `INSERT INTO connections (type_id, source_id, target_id, start_date, created_by)
       SELECT $1, p.ids[2 * k + 1 + side], o.ids[1 + k % 100], date '2020-01-01' + side * 30, '00000000-0000-4000-8000-000000000001'
         FROM (SELECT $2::uuid[] AS ids) p, (SELECT $3::uuid[] AS ids) o, generate_series(0, $4 - 1) AS k, (VALUES (0), (1)) AS s(side)`,
      [WORKS_AT, people, orgs, MERGE_PAIRS],
    );
    await ctx.sql(
      `INSERT INTO connections (type_id, source_id, target_id, start_date, created_by)
       SELECT $1, p.ids[2 * k + 2], o.ids[1 + (k + 50) % 100], date '2021-01-01', '00000000-0000-4000-8000-000000000001'
         FROM (SELECT $2::uuid[] AS ids) p, (SELECT $3::uuid[] AS ids) o, generate_series(0, $4 - 1) AS k`,
      [WORKS_AT, people, orgs, MERGE_PAIRS],
    );
    ctx.state.mergePairs = { people, next: 0 };
  },
  request: (ctx) => graphql(ctx, MERGE_PAIR, () => {
    const pairs = ctx.state.mergePairs;
    const k = pairs.next++ % MERGE_PAIRS;
    return { survivorId: pairs.people[2 * k], mergedIds: [pairs.people[2 * k + 1]] };
  }),
});
