import { Client } from 'pg';
import { BUILT_IN_ADMIN_ID } from '../../src/core/ids';
import { startTestServer, type TestServer } from '../support/test-server';
import {
  CONNECTION_FIELDS, CREATE_CONNECTION, SYSTEM, USER_ERRORS, connect, contact, createRecord, createType, dateFromToday, organization,
} from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('connections'); });
afterAll(() => t.close());

const RECORD_CONNECTIONS = `query($id: ID!, $filter: RecordConnectionFilterInput, $first: Int, $after: String) {
  record(id: $id) {
    connections(filter: $filter, first: $first, after: $after) {
      totalCount
      nodes { connectionId label direction status type { name } otherRecord { id label module } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

async function connectionsOf(id: string, variables: Record<string, unknown> = {}, key?: string) {
  const res = await t.gql(RECORD_CONNECTIONS, { id, ...variables }, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.record.connections;
}

describe('connections: successful cases', () => {
  test('a contact is connected to an organization and each side reads its own label', async () => {
    const asha = await contact(t, 'Rao', 'Asha');
    const acme = await organization(t, 'Acme');
    const payload = await connect(t, { typeId: SYSTEM.worksAt, sourceId: asha.id, targetId: acme.id, startDate: '2020-01-01', notes: ' CTO ' });
    expect(payload.userErrors).toEqual([]);
    expect(payload.connection).toMatchObject({
      status: 'ACTIVE', startDate: '2020-01-01', endDate: null, properties: {}, notes: 'CTO',
      type: { id: SYSTEM.worksAt, name: 'is working at' }, source: { id: asha.id, label: 'Asha Rao' }, target: { id: acme.id, label: 'Acme' },
      createdBy: { email: 'admin@countersign.local' },
    });
    const fromContact = await connectionsOf(asha.id);
    expect(fromContact.nodes).toEqual([{ connectionId: payload.connection.id, label: 'is working at', direction: 'OUTGOING', status: 'ACTIVE',
      type: { name: 'is working at' }, otherRecord: { id: acme.id, label: 'Acme', module: 'Organizations' } }]);
    const fromOrganization = await connectionsOf(acme.id);
    expect(fromOrganization.nodes).toEqual([{ connectionId: payload.connection.id, label: 'employs', direction: 'INCOMING', status: 'ACTIVE',
      type: { name: 'is working at' }, otherRecord: { id: asha.id, label: 'Asha Rao', module: 'Contacts' } }]);
    expect(fromOrganization.totalCount).toBe(1);
    expect(await t.sql('SELECT count(*)::int AS n FROM connections WHERE source_id = $1 OR target_id = $1', [asha.id])).toEqual([{ n: 1 }]);
  });

  test('a symmetric type reads the same label from both sides, direction MUTUAL', async () => {
    const [a, b] = [await contact(t, 'Spouse A'), await contact(t, 'Spouse B')];
    const { connection } = await connect(t, { typeId: SYSTEM.spouse, sourceId: a.id, targetId: b.id });
    for (const [viewer, other] of [[a, b], [b, a]]) {
      const page = await connectionsOf(viewer.id);
      expect(page.nodes).toEqual([expect.objectContaining({ connectionId: connection.id, label: 'spouse', direction: 'MUTUAL', otherRecord: expect.objectContaining({ id: other.id }) })]);
    }
  });

  test('status is INACTIVE once the end date has passed, ACTIVE on and before it', async () => {
    const [a, o1, o2, o3] = [await contact(t, 'Status'), await organization(t, 'Past Co'), await organization(t, 'Today Co'), await organization(t, 'Future Co')];
    await connect(t, { typeId: SYSTEM.previouslyWorkedAt, sourceId: a.id, targetId: o1.id, startDate: '2010-01-01', endDate: dateFromToday(-1) });
    await connect(t, { typeId: SYSTEM.consultantAt, sourceId: a.id, targetId: o2.id, endDate: dateFromToday(0) });
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: o3.id, startDate: dateFromToday(30) });
    const page = await connectionsOf(a.id);
    expect(page.nodes.map((n: any) => [n.otherRecord.label, n.status])).toEqual([['Past Co', 'INACTIVE'], ['Today Co', 'ACTIVE'], ['Future Co', 'ACTIVE']]);
    const active = await connectionsOf(a.id, { filter: { status: 'ACTIVE' } });
    expect(active.nodes.map((n: any) => n.otherRecord.label)).toEqual(['Today Co', 'Future Co']);
    expect(active.totalCount).toBe(2);
    const inactive = await connectionsOf(a.id, { filter: { status: 'INACTIVE' } });
    expect(inactive.nodes.map((n: any) => n.otherRecord.label)).toEqual(['Past Co']);
  });

  test('filters by type, direction and other module', async () => {
    const boss = await contact(t, 'Boss');
    const [x, y] = [await contact(t, 'Report X'), await contact(t, 'Report Y')];
    const org = await organization(t, 'Boss Org');
    await connect(t, { typeId: SYSTEM.reportsTo, sourceId: x.id, targetId: boss.id });
    await connect(t, { typeId: SYSTEM.reportsTo, sourceId: boss.id, targetId: y.id });
    await connect(t, { typeId: SYSTEM.knows, sourceId: x.id, targetId: boss.id });
    await connect(t, { typeId: SYSTEM.boardMemberOf, sourceId: boss.id, targetId: org.id });
    const labels = (page: any) => page.nodes.map((n: any) => `${n.label} ${n.otherRecord.label}`);
    expect(labels(await connectionsOf(boss.id))).toEqual(['manager of Report X', 'reports to Report Y', 'knows Report X', 'board member of Boss Org']);
    expect(labels(await connectionsOf(boss.id, { filter: { direction: 'INCOMING' } }))).toEqual(['manager of Report X', 'knows Report X']);
    expect(labels(await connectionsOf(boss.id, { filter: { direction: 'OUTGOING' } }))).toEqual(['reports to Report Y', 'knows Report X', 'board member of Boss Org']);
    expect(labels(await connectionsOf(boss.id, { filter: { direction: 'MUTUAL' } }))).toEqual(['knows Report X']);
    expect(labels(await connectionsOf(boss.id, { filter: { typeIds: [SYSTEM.reportsTo] } }))).toEqual(['manager of Report X', 'reports to Report Y']);
    expect(labels(await connectionsOf(boss.id, { filter: { otherModule: 'organizations' } }))).toEqual(['board member of Boss Org']);
    expect(labels(await connectionsOf(boss.id, { filter: { typeIds: ['not-a-uuid'] } }))).toEqual([]);
  });

  test('pages through a record\'s connections with first/after', async () => {
    const hub = await contact(t, 'Hub');
    const others = [];
    for (let i = 0; i < 5; i += 1) others.push(await contact(t, `Spoke ${i}`));
    for (const other of others) await connect(t, { typeId: SYSTEM.knows, sourceId: hub.id, targetId: other.id });
    const seen: string[] = [];
    let after: string | null = null;
    for (let pageNo = 0; pageNo < 3; pageNo += 1) {
      const page: any = await connectionsOf(hub.id, { first: 2, after });
      seen.push(...page.nodes.map((n: any) => n.otherRecord.label));
      expect(page.totalCount).toBe(5);
      expect(page.pageInfo.hasNextPage).toBe(pageNo < 2);
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(['Spoke 0', 'Spoke 1', 'Spoke 2', 'Spoke 3', 'Spoke 4']);
  });

  test('the same pair may be connected again for dates that do not overlap', async () => {
    const [a, org] = [await contact(t, 'Returner'), await organization(t, 'Boomerang Inc')];
    const first = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id, startDate: '2015-01-01', endDate: '2016-12-31' });
    const second = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id, startDate: '2018-01-01' });
    expect([first.userErrors, second.userErrors]).toEqual([[], []]);
  });

  test('properties are validated against the type and saved', async () => {
    const { connectionType } = await createType(t, { name: 'invested in', inverseName: 'has investor', sourceModules: ['Contacts'], targetModules: ['Organizations'],
      properties: [{ key: 'amount', label: 'Amount', type: 'NUMBER', required: true }, { key: 'round', label: 'Round', type: 'PICKLIST', options: ['Seed', 'A', 'B'] },
        { key: 'lead', label: 'Lead investor', type: 'BOOLEAN' }, { key: 'closedOn', label: 'Closed on', type: 'DATE' }, { key: 'memo', label: 'Memo', type: 'TEXT' }] });
    const [a, org] = [await contact(t, 'Investor'), await organization(t, 'Startup')];
    const payload = await connect(t, { typeId: connectionType.id, sourceId: a.id, targetId: org.id,
      properties: { amount: 250000, round: 'Seed', lead: true, closedOn: '2021-06-30', memo: ' pro rata ' } });
    expect(payload.userErrors).toEqual([]);
    expect(payload.connection.properties).toEqual({ amount: 250000, round: 'Seed', lead: true, closedOn: '2021-06-30', memo: 'pro rata' });
  });

  test('updateConnection changes dates, merges properties and notes', async () => {
    const { connectionType } = await createType(t, { name: 'advises', inverseName: 'advised by', sourceModules: ['Contacts'], targetModules: ['Contacts'],
      properties: [{ key: 'topic', label: 'Topic', type: 'TEXT' }, { key: 'paid', label: 'Paid', type: 'BOOLEAN' }] });
    const [a, b] = [await contact(t, 'Adviser'), await contact(t, 'Advisee')];
    const { connection } = await connect(t, { typeId: connectionType.id, sourceId: a.id, targetId: b.id, properties: { topic: 'Tax', paid: true }, notes: 'n' });
    const res = await t.gql(`mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { connection { ${CONNECTION_FIELDS} } ${USER_ERRORS} } }`,
      { id: connection.id, input: { endDate: '2020-01-01', properties: { paid: null, topic: 'Law' }, notes: null } });
    expect(res.body.data.updateConnection.userErrors).toEqual([]);
    expect(res.body.data.updateConnection.connection).toMatchObject({ endDate: '2020-01-01', status: 'INACTIVE', properties: { topic: 'Law' }, notes: null });
  });

  test('deleteConnection removes it from both sides', async () => {
    const [a, b] = [await contact(t, 'Del A'), await contact(t, 'Del B')];
    const { connection } = await connect(t, { typeId: SYSTEM.parentOf, sourceId: a.id, targetId: b.id });
    const res = await t.gql(`mutation($id: ID!) { deleteConnection(id: $id) { connection { id } ${USER_ERRORS} } }`, { id: connection.id });
    expect(res.body.data.deleteConnection).toEqual({ connection: { id: connection.id }, userErrors: [] });
    expect((await connectionsOf(a.id)).nodes).toEqual([]);
    expect((await connectionsOf(b.id)).nodes).toEqual([]);
    const again = await t.gql(`mutation($id: ID!) { deleteConnection(id: $id) { ${USER_ERRORS} } }`, { id: connection.id });
    expect(again.body.data.deleteConnection.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
  });

  test('createConnections saves the valid items and reports the others per item', async () => {
    const [a, b, c] = [await contact(t, 'Batch A'), await contact(t, 'Batch B'), await contact(t, 'Batch C')];
    const res = await t.gql(`mutation($inputs: [CreateConnectionInput!]!) {
      createConnections(inputs: $inputs) { createdCount failedCount results { index connection { id source { id } } ${USER_ERRORS} } ${USER_ERRORS} }
    }`, { inputs: [
      { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id },
      { typeId: SYSTEM.knows, sourceId: b.id, targetId: a.id },
      { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: c.id },
      { typeId: SYSTEM.knows, sourceId: a.id, targetId: c.id },
    ] });
    const payload = res.body.data.createConnections;
    expect(payload).toMatchObject({ createdCount: 2, failedCount: 2, userErrors: [] });
    expect(payload.results.map((r: any) => [r.index, !!r.connection, r.userErrors.map((e: any) => `${e.code}@${e.field.join('.')}`)])).toEqual([
      [0, true, []],
      [1, false, ['DUPLICATE_CONNECTION@inputs.1.typeId']],
      [2, false, ['INVALID@inputs.2.targetId']],
      [3, true, []],
    ]);
    expect(payload.results[1].userErrors[0].message).toContain(payload.results[0].connection.id);
  });

  test('soft-deleting a record hides its connections; restoring brings them back; hard delete removes them', async () => {
    const [a, org] = [await contact(t, 'Ghost'), await organization(t, 'Haunted Ltd')];
    const { connection } = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id });
    await t.gql('mutation($id: ID!) { deleteRecord(id: $id) { record { id } } }', { id: a.id });
    expect(await connectionsOf(org.id)).toMatchObject({ nodes: [], totalCount: 0 });
    expect((await t.gql('query($id: ID!) { connection(id: $id) { id } }', { id: connection.id })).body.data.connection).toBeNull();
    const rootList = await t.gql('query($id: ID!) { connections(filter: { recordId: $id }) { totalCount } }', { id: org.id });
    expect(rootList.body.data.connections.totalCount).toBe(0);
    await t.gql('mutation($id: ID!) { restoreRecord(id: $id) { record { id } } }', { id: a.id });
    expect((await connectionsOf(org.id)).nodes.map((n: any) => n.connectionId)).toEqual([connection.id]);
    await t.gql('mutation($id: ID!) { deleteRecord(id: $id, hard: true) { record { id } } }', { id: a.id });
    expect(await t.sql('SELECT id FROM connections WHERE id = $1', [connection.id])).toEqual([]);
    expect((await connectionsOf(org.id)).nodes).toEqual([]);
  });

  test('admins list every connection at the root, filtered and paginated', async () => {
    const [a, b] = [await contact(t, 'Root A'), await contact(t, 'Root B')];
    const { connection } = await connect(t, { typeId: SYSTEM.parentOf, sourceId: a.id, targetId: b.id });
    const res = await t.gql(`query($filter: ConnectionFilterInput) { connections(filter: $filter, first: 5) { totalCount nodes { id type { name } source { label } target { label } status } } }`,
      { filter: { typeIds: [SYSTEM.parentOf], recordId: b.id, status: 'ACTIVE' } });
    expect(res.body.data.connections).toEqual({ totalCount: 1, nodes: [{ id: connection.id, type: { name: 'parent of' }, source: { label: 'Root A' }, target: { label: 'Root B' }, status: 'ACTIVE' }] });
    const all = await t.gql('{ connections(first: 2) { totalCount pageInfo { hasNextPage endCursor } } }');
    expect(all.body.data.connections.totalCount).toBeGreaterThan(2);
    expect(all.body.data.connections.pageInfo.hasNextPage).toBe(true);
  });

  test('USER creates, edits and deletes connections; READONLY reads them', async () => {
    const user = await t.keyFor('USER');
    const readonly = await t.keyFor('READONLY');
    const [a, b] = [await contact(t, 'Perm A'), await contact(t, 'Perm B')];
    const created = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id }, user.key);
    expect(created.userErrors).toEqual([]);
    const updated = await t.gql(`mutation($id: ID!) { updateConnection(id: $id, input: { notes: "met at a conference" }) { connection { notes } ${USER_ERRORS} } }`,
      { id: created.connection.id }, { key: user.key });
    expect(updated.body.data.updateConnection).toEqual({ connection: { notes: 'met at a conference' }, userErrors: [] });
    const read = await connectionsOf(a.id, {}, readonly.key);
    expect(read.nodes.map((n: any) => n.connectionId)).toEqual([created.connection.id]);
    const deleted = await t.gql(`mutation($id: ID!) { deleteConnection(id: $id) { ${USER_ERRORS} } }`, { id: created.connection.id }, { key: user.key });
    expect(deleted.body.data.deleteConnection.userErrors).toEqual([]);
  });
});

describe('connections: failing cases', () => {
  test('a duplicate is refused with DUPLICATE_CONNECTION naming the existing one; symmetric types in either order', async () => {
    const [a, org] = [await contact(t, 'Dup'), await organization(t, 'Dup Org')];
    const first = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id, startDate: '2019-01-01', endDate: '2022-12-31' });
    const overlapping = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id, startDate: '2022-12-31' });
    expect(overlapping.connection).toBeNull();
    expect(overlapping.userErrors).toEqual([expect.objectContaining({ code: 'DUPLICATE_CONNECTION', field: ['typeId'] })]);
    expect(overlapping.userErrors[0].message).toContain(first.connection.id);

    const [b, c] = [await contact(t, 'Sym B'), await contact(t, 'Sym C')];
    const knows = await connect(t, { typeId: SYSTEM.knows, sourceId: b.id, targetId: c.id });
    const reversed = await connect(t, { typeId: SYSTEM.knows, sourceId: c.id, targetId: b.id });
    expect(reversed.userErrors).toEqual([expect.objectContaining({ code: 'DUPLICATE_CONNECTION' })]);
    expect(reversed.userErrors[0].message).toContain(knows.connection.id);
    // an asymmetric type may link the same two records both ways
    const up = await connect(t, { typeId: SYSTEM.reportsTo, sourceId: b.id, targetId: c.id });
    const down = await connect(t, { typeId: SYSTEM.reportsTo, sourceId: c.id, targetId: b.id });
    expect([up.userErrors, down.userErrors]).toEqual([[], []]);
  });

  test('an update that would make a duplicate is refused', async () => {
    const [a, org] = [await contact(t, 'Upd Dup'), await organization(t, 'Upd Dup Org')];
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id, startDate: '2020-01-01' });
    const old = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id, startDate: '2010-01-01', endDate: '2011-01-01' });
    const res = await t.gql(`mutation($id: ID!) { updateConnection(id: $id, input: { endDate: null }) { connection { id } ${USER_ERRORS} } }`, { id: old.connection.id });
    expect(res.body.data.updateConnection.userErrors).toEqual([expect.objectContaining({ code: 'DUPLICATE_CONNECTION' })]);
    expect(await t.sql('SELECT end_date::text FROM connections WHERE id = $1', [old.connection.id])).toEqual([{ end_date: '2011-01-01' }]);
  });

  test('50 parallel identical creates leave exactly one row', async () => {
    const [a, org] = [await contact(t, 'Racer'), await organization(t, 'Race Track')];
    const results = await Promise.all(Array.from({ length: 50 }, () =>
      t.gql(CREATE_CONNECTION, { input: { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id } })));
    expect(results.filter((r) => r.body.errors)).toEqual([]);
    const payloads = results.map((r) => r.body.data.createConnection);
    const winners = payloads.filter((p) => p.connection);
    expect(winners).toHaveLength(1);
    const losers = payloads.filter((p) => !p.connection);
    expect(losers).toHaveLength(49);
    for (const loser of losers) {
      expect(loser.userErrors).toEqual([expect.objectContaining({ code: 'DUPLICATE_CONNECTION' })]);
      expect(loser.userErrors[0].message).toContain(winners[0].connection.id);
    }
    expect(await t.sql('SELECT count(*)::int AS n FROM connections WHERE source_id = $1 AND target_id = $2', [a.id, org.id])).toEqual([{ n: 1 }]);
  });

  test('a duplicate committed by another writer while a create waits on the constraint is reported, naming it', async () => {
    const [a, org] = [await contact(t, 'Late'), await organization(t, 'Late Org')];
    const other = new Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      const { rows: [{ id }] } = await other.query(
        'INSERT INTO connections (type_id, source_id, target_id, created_by) VALUES ($1, $2, $3, $4) RETURNING id', [SYSTEM.worksAt, a.id, org.id, BUILT_IN_ADMIN_ID]);
      const pending = t.gql(CREATE_CONNECTION, { input: { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id } });
      // proceed once the API's INSERT is blocked behind the open transaction in the exclusion check
      for (;;) {
        const [row] = await t.sql(`SELECT count(*)::int AS n FROM pg_stat_activity
                                    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO connections AS c%'`);
        if (row.n > 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await other.query('COMMIT');
      const payload = (await pending).body.data.createConnection;
      expect(payload.connection).toBeNull();
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'DUPLICATE_CONNECTION' })]);
      expect(payload.userErrors[0].message).toContain(id);
    } finally {
      await other.end();
    }
  });

  test('50 parallel symmetric creates in both orders leave exactly one row', async () => {
    const [a, b] = [await contact(t, 'Sym Racer A'), await contact(t, 'Sym Racer B')];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      t.gql(CREATE_CONNECTION, { input: { typeId: SYSTEM.spouse, sourceId: i % 2 ? a.id : b.id, targetId: i % 2 ? b.id : a.id } })));
    expect(results.filter((r) => r.body.data.createConnection.connection)).toHaveLength(1);
    expect(await t.sql('SELECT count(*)::int AS n FROM connections WHERE $1 IN (source_id, target_id) AND $2 IN (source_id, target_id)', [a.id, b.id])).toEqual([{ n: 1 }]);
  });

  test('the database itself refuses an overlapping row', async () => {
    const [a, org] = [await contact(t, 'Direct'), await organization(t, 'Direct Org')];
    const { connection } = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id });
    await expect(t.sql(`INSERT INTO connections (type_id, source_id, target_id, "symmetric", start_date, created_by)
                        SELECT type_id, source_id, target_id, "symmetric", '2030-01-01', created_by FROM connections WHERE id = $1`, [connection.id]))
      .rejects.toThrow(/EX_connections_no_overlap/);
  });

  test('endpoints must exist, be of allowed modules and differ; every problem is reported at once', async () => {
    const a = await contact(t, 'Endpoint');
    const vendor = await createRecord(t, 'Vendors', { name: 'Wrong Module Vendor' });
    const missing = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: '00000000-0000-4000-8000-00000000abcd' });
    expect(missing.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['targetId'] })]);
    const wrong = await connect(t, { typeId: SYSTEM.worksAt, sourceId: vendor.id, targetId: vendor.id });
    expect(wrong.userErrors.map((e: any) => `${e.code}@${e.field.join('.')}`)).toEqual(['INVALID@sourceId', 'INVALID@targetId', 'INVALID@targetId']);
    expect(wrong.userErrors[0].message).toBe('"is working at" starts from a Contact, not a Vendor.');
    const self = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: a.id });
    expect(self.userErrors).toEqual([{ code: 'INVALID', field: ['targetId'], message: '"knows" cannot connect a record to itself.' }]);
    const garbage = await connect(t, { typeId: 'x', sourceId: 'y', targetId: 'z' });
    expect(garbage.userErrors.map((e: any) => `${e.code}@${e.field.join('.')}`)).toEqual(['NOT_FOUND@typeId', 'NOT_FOUND@sourceId', 'NOT_FOUND@targetId']);
  });

  test('a soft-deleted record cannot be connected', async () => {
    const [a, b] = [await contact(t, 'Alive'), await contact(t, 'Trashed')];
    await t.gql('mutation($id: ID!) { deleteRecord(id: $id) { record { id } } }', { id: b.id });
    const res = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id });
    expect(res.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['targetId'] })]);
  });

  test('every bad property and the date order are reported at once; nothing is written', async () => {
    const { connectionType } = await createType(t, { name: 'sponsors', inverseName: 'sponsored by', sourceModules: ['Contacts'], targetModules: ['Contacts'],
      properties: [{ key: 'amount', label: 'Amount', type: 'NUMBER', required: true }, { key: 'tier', label: 'Tier', type: 'PICKLIST', options: ['Gold'] },
        { key: 'public', label: 'Public', type: 'BOOLEAN' }, { key: 'since', label: 'Since', type: 'DATE' }, { key: 'note', label: 'Note', type: 'TEXT' }] });
    const [a, b] = [await contact(t, 'Sponsor'), await contact(t, 'Sponsee')];
    const before = await t.sql('SELECT count(*)::int AS n FROM connections');
    const res = await connect(t, { typeId: connectionType.id, sourceId: a.id, targetId: b.id, startDate: '2022-01-02', endDate: '2022-01-01',
      properties: { tier: 'Bronze', public: 'yes', since: '2021-02-30', note: 42, colour: 'red' } });
    expect(res.connection).toBeNull();
    expect(res.userErrors.map((e: any) => `${e.code}@${e.field.join('.')}`).sort()).toEqual([
      'INVALID@endDate', 'INVALID@properties.note', 'INVALID@properties.public', 'INVALID@properties.since', 'INVALID@properties.tier',
      'REQUIRED@properties.amount', 'UNKNOWN_FIELD@properties.colour',
    ]);
    expect(await t.sql('SELECT count(*)::int AS n FROM connections')).toEqual(before);
  });

  test('an inactive type takes no new connections', async () => {
    const { connectionType } = await createType(t, { name: 'retired link', inverseName: 'retired link of', sourceModules: ['Contacts'], targetModules: ['Contacts'], active: false });
    const [a, b] = [await contact(t, 'Ret A'), await contact(t, 'Ret B')];
    const res = await connect(t, { typeId: connectionType.id, sourceId: a.id, targetId: b.id });
    expect(res.userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['typeId'] })]);
  });

  test('malformed dates, cursors and ids are client errors, never server errors', async () => {
    const [a, b] = [await contact(t, 'Bad Input A'), await contact(t, 'Bad Input B')];
    const badDate = await t.gql(CREATE_CONNECTION, { input: { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id, startDate: '2021-13-01' } });
    expect(badDate.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badCursor = await t.gql(RECORD_CONNECTIONS, { id: a.id, after: 'garbage' });
    expect(badCursor.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const forged = await t.gql(RECORD_CONNECTIONS, { id: a.id, after: Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url') });
    expect(forged.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badModule = await t.gql(RECORD_CONNECTIONS, { id: a.id, filter: { otherModule: 'Spaceships' } });
    expect(badModule.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const longNotes = await t.gql(`mutation($inputs: [CreateConnectionInput!]!) { createConnections(inputs: $inputs) { createdCount } }`,
      { inputs: [{ typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id, notes: 'x'.repeat(2001) }] });
    expect(longNotes.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await t.gql(RECORD_CONNECTIONS, { id: a.id, first: 101 });
    expect(tooMany.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const noConnection = await t.gql('{ connection(id: "nope") { id } }');
    expect(noConnection.body).toEqual({ data: { connection: null } });
    const update = await t.gql(`mutation { updateConnection(id: "nope", input: { notes: "x" }) { ${USER_ERRORS} } }`);
    expect(update.body.data.updateConnection.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
  });

  test('a batch of more than 100 is refused as a whole', async () => {
    const [a, b] = [await contact(t, 'Big Batch A'), await contact(t, 'Big Batch B')];
    const inputs = Array.from({ length: 101 }, () => ({ typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id }));
    const res = await t.gql(`mutation($inputs: [CreateConnectionInput!]!) { createConnections(inputs: $inputs) { createdCount results { index } ${USER_ERRORS} } }`, { inputs });
    expect(res.body.data.createConnections).toMatchObject({ createdCount: 0, results: [], userErrors: [expect.objectContaining({ code: 'LIMIT_REACHED' })] });
  });

  test('READONLY cannot write connections; only admins list them all at the root', async () => {
    const readonly = await t.keyFor('READONLY');
    const user = await t.keyFor('USER');
    const [a, b] = [await contact(t, 'RO A'), await contact(t, 'RO B')];
    const { connection } = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id });
    const create = await t.gql(CREATE_CONNECTION, { input: { typeId: SYSTEM.parentOf, sourceId: a.id, targetId: b.id } }, { key: readonly.key });
    expect(create.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const update = await t.gql(`mutation($id: ID!) { updateConnection(id: $id, input: { notes: "x" }) { ${USER_ERRORS} } }`, { id: connection.id }, { key: readonly.key });
    expect(update.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const del = await t.gql(`mutation($id: ID!) { deleteConnection(id: $id) { ${USER_ERRORS} } }`, { id: connection.id }, { key: readonly.key });
    expect(del.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const root = await t.gql('{ connections { totalCount } }', {}, { key: user.key });
    expect(root.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await t.sql('SELECT notes FROM connections WHERE id = $1', [connection.id])).toEqual([{ notes: null }]);
  });
});
