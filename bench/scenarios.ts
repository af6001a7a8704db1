export interface BenchContext {
  adminKey: string;
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
];
