import { withStatementTexts } from '../../src/db/pipelined-sql';
import { StatementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM } from './helpers';

/** Counts every SQL statement the server sends while answering one request (test/support/statements.ts). */
let t: TestServer;
const counter = new StatementCounter(() => t);

beforeAll(async () => {
  t = await startTestServer('conn_statements', { OTP_WORKER: 'false', WEBHOOKS_WORKER: 'false' }); // no delivery worker or webhook dispatcher polling the pool while statements are counted
  counter.install();
  await seed();
});
afterAll(async () => {
  counter.uninstall();
  await t.close();
});

async function seed() {
  const rows = (prefix: string, n: number, fields: (i: number) => Record<string, unknown>) => Array.from({ length: n }, (_, i) => fields(i));
  const imported = async (module: string, list: Array<Record<string, unknown>>) => {
    const res = await t.gql(`mutation($module: String!, $rows: [JSONObject!]!) { importRecords(module: $module, rows: $rows) { rows { record { id } } } }`, { module, rows: list });
    return res.body.data.importRecords.rows.map((r: { record: { id: string } }) => r.record.id) as string[];
  };
  const contacts = await imported('Contacts', rows('c', 100, (i) => ({ lastName: `Counted ${String(i).padStart(3, '0')}` })));
  const orgs = await imported('Organizations', rows('o', 20, (i) => ({ name: `Employer ${i}` })));
  const friends = await imported('Contacts', rows('f', 30, (i) => ({ lastName: `Friend ${i}` })));
  const inputs = contacts.flatMap((id, i) => [
    { typeId: SYSTEM.worksAt, sourceId: id, targetId: orgs[i % orgs.length] },
    { typeId: SYSTEM.knows, sourceId: friends[i % friends.length], targetId: id },
    { typeId: SYSTEM.reportsTo, sourceId: id, targetId: friends[(i + 7) % friends.length], endDate: '2001-01-01' },
  ]);
  for (let i = 0; i < inputs.length; i += 100) {
    const res = await t.gql(`mutation($inputs: [CreateConnectionInput!]!) { createConnections(inputs: $inputs) { createdCount } }`, { inputs: inputs.slice(i, i + 100) });
    expect(res.body.data.createConnections.createdCount).toBe(Math.min(100, inputs.length - i));
  }
}

const PAGE = `query($first: Int!) {
  records(module: "Contacts", first: $first, where: [{ field: "lastName", operator: STARTS_WITH, value: "Counted" }], orderBy: { field: "lastName", direction: ASC }) {
    nodes {
      id label
      connections(first: 10) {
        totalCount
        nodes {
          connectionId label direction status startDate endDate
          type { id name inverseName }
          otherRecord { id label module }
          connection { source { id label } target { id label } }
        }
      }
    }
  }
}`;

async function statementsFor(first: number) {
  const { statements, result: res } = await counter.count(() => t.gql(PAGE, { first }));
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return { statements, nodes: res.body.data.records.nodes };
}

describe('connections: statements per page', () => {
  test('a page of 100 records with their connections, types and other records takes at most 5 statements, like a page of 10', async () => {
    const small = await statementsFor(10);
    const large = await statementsFor(100);
    expect(small.nodes).toHaveLength(10);
    expect(large.nodes).toHaveLength(100);
    // every record shows its three connections with labels from its own side
    for (const node of large.nodes) {
      expect(node.connections.totalCount).toBe(3);
      expect(node.connections.nodes.map((n: any) => `${n.label}/${n.direction}/${n.status}`)).toEqual(['is working at/OUTGOING/ACTIVE', 'knows/MUTUAL/ACTIVE', 'reports to/OUTGOING/INACTIVE']);
      for (const c of node.connections.nodes) expect([c.connection.source.id, c.connection.target.id]).toContain(node.id);
    }
    // records page + connections with their other records + types + connection counts; the API key was used just
    // before, so it is answered from this instance's principal cache (a cold key adds one lookup: still ≤ 5)
    expect(large.statements.length).toBeLessThanOrEqual(5);
    expect(large.statements.length).toBe(small.statements.length);
    // a loader's statement is prepared on a connection's first use and EXECUTEd by name after: read it with its SQL
    const kinds = (statements: string[]) => statements.map(withStatementTexts).map((sql) => {
      if (/FROM api_keys/.test(sql)) return 'auth';
      if (/FROM records r/.test(sql)) return 'records';
      if (/count\(\*\)/.test(sql)) return 'connection counts';
      if (/CROSS JOIN LATERAL/.test(sql)) return 'connections+other records';
      if (/FROM connection_types/.test(sql)) return 'types';
      return sql;
    }).sort();
    expect(kinds(large.statements)).toEqual(['connection counts', 'connections+other records', 'records', 'types']);
    expect(kinds(small.statements)).toEqual(kinds(large.statements));
  });
});

const HISTORY_PAGE = `query($first: Int!) {
  records(module: "Contacts", first: $first, where: [{ field: "lastName", operator: STARTS_WITH, value: "Counted" }], orderBy: { field: "lastName", direction: ASC }) {
    nodes { id connections(first: 10) { nodes { connection { id history(first: 2) { totalCount nodes { action } pageInfo { hasNextPage } } } } } }
  }
}`;

describe('connection history: statements per page', () => {
  test('the histories of a page\'s 300 connections are one statement, and their counts one more, as for 30', async () => {
    const run = async (first: number) => {
      const { statements, result: res } = await counter.count(() => t.gql(HISTORY_PAGE, { first }));
      if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
      return { statements: statements.map(withStatementTexts), nodes: res.body.data.records.nodes };
    };
    const small = await run(10);
    const large = await run(100);
    const histories = large.nodes.flatMap((n: any) => n.connections.nodes.map((c: any) => c.connection.history));
    expect(histories).toHaveLength(300);
    for (const history of histories) expect(history).toEqual({ totalCount: 1, nodes: [{ action: 'CREATED' }], pageInfo: { hasNextPage: false } });
    expect(large.statements.filter((sql) => /FROM connection_history/.test(sql))).toHaveLength(2);
    expect(large.statements.length).toBe(small.statements.length);
  });

  test('attacker: a bad cursor in one alias fails that field only; the aliases batched with it answer', async () => {
    const [edge] = (await t.gql(HISTORY_PAGE, { first: 1 })).body.data.records.nodes[0].connections.nodes;
    const res = await t.gql(`query($id: ID!) {
      good: connection(id: $id) { history(first: 5) { nodes { action } } }
      bad: connection(id: $id) { history(first: 5, after: "bm90IGEgY3Vyc29y") { nodes { action } } }
    }`, { id: edge.connection.id });
    expect(res.body.data.good).toEqual({ history: { nodes: [{ action: 'CREATED' }] } });
    expect(res.body.data.bad).toBeNull(); // history is non-null: its error empties the connection that holds it
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ path: ['bad', 'history'], extensions: { code: 'BAD_USER_INPUT' } });
  });
});

const pageAsking = (otherRecord: string) => `query($first: Int!) {
  records(module: "Contacts", first: $first, where: [{ field: "lastName", operator: STARTS_WITH, value: "Counted" }], orderBy: { field: "lastName", direction: ASC }) {
    nodes { id connections(first: 10) { nodes { connectionId ${otherRecord} } } }
  }
} ${otherRecord.includes('...R') ? 'fragment R on Record { fields }' : ''}`;

describe('connections: a page reads of its other records only what it asks', () => {
  const run = async (query: string) => {
    const { statements, result: res } = await counter.count(() => t.gql(query, { first: 100 }));
    if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
    const page = statements.map(withStatementTexts).find((sql) => /CROSS JOIN LATERAL/.test(sql))!;
    return { page, statements, nodes: res.body.data.records.nodes };
  };
  const others = (nodes: any[]) => nodes.flatMap((n) => n.connections.nodes.map((c: any) => c.otherRecord));

  test('id, module and label only: not the other records\' fields JSON, and the same answers', async () => {
    const partial = await run(pageAsking('otherRecord { __typename id module label }'));
    const whole = await run(pageAsking('otherRecord { __typename id module label version }'));
    expect(partial.page).not.toMatch(/to_jsonb\(o\)/);
    expect(partial.page).toMatch(/jsonb_build_object\('id', o\.id, 'module', o\.module, 'label', o\.label\)/);
    expect(whole.page).toMatch(/to_jsonb\(o\)/);
    expect(partial.statements.length).toBe(whole.statements.length);
    const strip = (list: any[]) => list.map(({ version: _v, ...rest }) => rest);
    expect(others(partial.nodes)).toHaveLength(300);
    expect(others(partial.nodes)).toEqual(strip(others(whole.nodes)));
  });

  test('attacker: more asked through an alias, a fragment or an inline fragment reads the whole record and answers it', async () => {
    for (const selection of ['otherRecord { id name: fields }', 'otherRecord { id ...R }', 'otherRecord { id ... on Record { fields } }']) {
      const { page, nodes } = await run(pageAsking(selection));
      expect(page).toMatch(/to_jsonb\(o\)/);
      expect(others(nodes)).toHaveLength(300);
      // every other record answers its whole fields object (a Contact's lastName, an Organization's name)
      for (const other of others(nodes)) expect(Object.keys(other.name ?? other.fields).length).toBeGreaterThan(0);
    }
  });

  test('a partial other record is never handed to another field: record(id) of the same record in the same request answers its fields', async () => {
    const first = await run(pageAsking('otherRecord { id label }'));
    const otherId = others(first.nodes)[0].id;
    const res = await t.gql(`query($first: Int!, $id: ID!) {
      records(module: "Contacts", first: $first, where: [{ field: "lastName", operator: STARTS_WITH, value: "Counted" }], orderBy: { field: "lastName", direction: ASC }) {
        nodes { connections(first: 10) { nodes { otherRecord { id label } } } }
      }
      record(id: $id) { id fields version }
    }`, { first: 100, id: otherId });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.record).toMatchObject({ id: otherId, fields: expect.any(Object), version: expect.any(Number) });
    expect(Object.keys(res.body.data.record.fields).length).toBeGreaterThan(0);
  });
});
