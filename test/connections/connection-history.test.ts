import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, USER_ERRORS, connect, contact, createType, dateFromToday, organization } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('conn_history'); });
afterAll(() => t.close());

const HISTORY = `query($id: ID!, $first: Int, $after: String) {
  connection(id: $id) {
    history(first: $first, after: $after) {
      totalCount
      nodes { id connectionId action at changedFields oldValues newValues actor { id email } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const AS_OF = `query($id: ID!, $asOf: LocalDate, $filter: RecordConnectionFilterInput, $first: Int, $after: String) {
  record(id: $id) {
    connections(asOf: $asOf, filter: $filter, first: $first, after: $after) {
      totalCount
      nodes { connectionId label status startDate endDate properties notes otherRecord { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const UPDATE = `mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { connection { id } ${USER_ERRORS} } }`;
const DELETE = `mutation($id: ID!) { deleteConnection(id: $id) { connection { id } ${USER_ERRORS} } }`;

async function gql(query: string, variables: Record<string, unknown>, key?: string) {
  const res = await t.gql(query, variables, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data;
}

async function historyOf(id: string) {
  return (await gql(HISTORY, { id, first: 100 })).connection.history;
}

async function asOf(recordId: string, day: string | null, extra: Record<string, unknown> = {}) {
  return (await gql(AS_OF, { id: recordId, asOf: day, first: 50, ...extra })).record.connections;
}

/** Moves the history of `connectionId` so that its entries happened on the given days (one per entry, in order). */
async function backdate(connectionId: string, days: string[]) {
  const rows = await t.sql<{ id: string }>('SELECT id::text AS id FROM connection_history WHERE connection_id = $1 ORDER BY id', [connectionId]);
  expect(rows).toHaveLength(days.length);
  for (const [i, row] of rows.entries()) await t.sql(`UPDATE connection_history SET at = ($2::date + time '12:00') AT TIME ZONE 'UTC' WHERE id = $1`, [row.id, days[i]]);
}

describe('history: every create, change, end and delete is recorded with who, when, old and new values', () => {
  test('create, change of dates and properties, end, delete — by two users', async () => {
    const type = await createType(t, {
      name: 'advises', inverseName: 'is advised by', sourceModules: ['Contacts'], targetModules: ['Organizations'],
      properties: [{ key: 'fee', label: 'Fee', type: 'NUMBER' }],
    });
    const user = await t.keyFor('USER', 'history-writer');
    const [asha, acme] = [await contact(t, 'Historian'), await organization(t, 'History Corp')];
    const created = await connect(t, { typeId: type.connectionType.id, sourceId: asha.id, targetId: acme.id, startDate: '2020-01-01', properties: { fee: 10 } }, user.key);
    const id = created.connection.id;
    expect((await gql(UPDATE, { id, input: { startDate: '2020-02-01', properties: { fee: 20 } } }, user.key)).updateConnection.userErrors).toEqual([]);
    expect((await gql(UPDATE, { id, input: { notes: 'same values again' } })).updateConnection.userErrors).toEqual([]);
    expect((await gql(UPDATE, { id, input: { endDate: '2021-01-01' } })).updateConnection.userErrors).toEqual([]);
    const before = await historyOf(id);
    expect((await gql(DELETE, { id })).deleteConnection.userErrors).toEqual([]);

    expect(before.totalCount).toBe(4);
    const [c, u1, u2, e] = before.nodes;
    expect(c).toMatchObject({ connectionId: id, action: 'CREATED', changedFields: [], oldValues: null, actor: { id: user.userId } });
    expect(c.newValues).toMatchObject({ typeId: type.connectionType.id, sourceId: asha.id, targetId: acme.id, startDate: '2020-01-01', endDate: null, properties: { fee: 10 } });
    expect(u1).toMatchObject({ action: 'UPDATED', changedFields: ['properties', 'startDate'], actor: { id: user.userId } });
    expect(u1.oldValues).toMatchObject({ startDate: '2020-01-01', properties: { fee: 10 } });
    expect(u1.newValues).toMatchObject({ startDate: '2020-02-01', properties: { fee: 20 } });
    expect(u2).toMatchObject({ action: 'UPDATED', changedFields: ['notes'], actor: expect.objectContaining({ email: 'admin@countersign.local' }) });
    expect(e).toMatchObject({ action: 'ENDED', changedFields: ['endDate'], oldValues: expect.objectContaining({ endDate: null }), newValues: expect.objectContaining({ endDate: '2021-01-01' }) });
    expect(new Date(e.at).getTime()).toBeGreaterThanOrEqual(new Date(c.at).getTime());

    // The deletion is kept, with what was deleted and who did it, although the connection itself is gone.
    const deleted = await t.sql('SELECT action, actor_id, old_values->>\'endDate\' AS end_date, new_values FROM connection_history WHERE connection_id = $1 ORDER BY id DESC LIMIT 1', [id]);
    expect(deleted).toEqual([{ action: 'DELETED', actor_id: '00000000-0000-4000-8000-000000000001', end_date: '2021-01-01', new_values: null }]);
  });

  test('history is paginated, oldest first, and a cursor of another list is refused', async () => {
    const [a, b] = [await contact(t, 'Paged A'), await contact(t, 'Paged B')];
    const { connection } = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id });
    for (let i = 0; i < 4; i += 1) await gql(UPDATE, { id: connection.id, input: { notes: `note ${i}` } });
    const first = (await gql(HISTORY, { id: connection.id, first: 2 })).connection.history;
    expect(first.nodes.map((n: any) => n.action)).toEqual(['CREATED', 'UPDATED']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await gql(HISTORY, { id: connection.id, first: 10, after: first.pageInfo.endCursor })).connection.history;
    expect(rest.nodes.map((n: any) => n.newValues.notes)).toEqual(['note 1', 'note 2', 'note 3']);
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const recordCursor = (await asOf(a.id, null, { first: 1 })).pageInfo.endCursor;
    const res = await t.gql(HISTORY, { id: connection.id, first: 2, after: recordCursor });
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  test('writers other than the connection mutations are recorded too: type policy END, integrity repair, a hard-deleted record', async () => {
    const type = await createType(t, { name: 'mentors', inverseName: 'is mentored by', sourceModules: ['Contacts'], targetModules: ['Contacts', 'Organizations'] });
    const [m, o] = [await contact(t, 'Mentor'), await organization(t, 'Mentored Org')];
    const { connection } = await connect(t, { typeId: type.connectionType.id, sourceId: m.id, targetId: o.id });
    const narrowed = await t.gql(`mutation($id: ID!) { updateConnectionType(id: $id, input: { targetModules: ["Contacts"] }, policy: END) { affectedConnectionIds ${USER_ERRORS} } }`, { id: type.connectionType.id });
    expect(narrowed.body.data.updateConnectionType.affectedConnectionIds).toEqual([connection.id]);
    const history = await historyOf(connection.id);
    expect(history.nodes.map((n: any) => [n.action, n.actor?.email])).toEqual([['CREATED', 'admin@countersign.local'], ['ENDED', 'admin@countersign.local']]);

    const gone = await contact(t, 'Hard Deleted');
    const other = await contact(t, 'Survivor');
    const link = await connect(t, { typeId: SYSTEM.knows, sourceId: gone.id, targetId: other.id });
    const del = await t.gql(`mutation($id: ID!) { deleteRecord(id: $id, hard: true) { ${USER_ERRORS} } }`, { id: gone.id });
    expect(del.body.errors).toBeUndefined();
    expect(await t.sql('SELECT action FROM connection_history WHERE connection_id = $1 ORDER BY id', [link.connection.id])).toEqual([{ action: 'CREATED' }, { action: 'DELETED' }]);
  });

  test('a write of SQL inside the connections feature (as a record merge does) is recorded with the actor it names', async () => {
    const [a, b, c] = [await contact(t, 'Moved From'), await organization(t, 'Moved Org'), await contact(t, 'Moved To')];
    const { connection } = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: b.id });
    const user = await t.keyFor('USER', 'merger');
    await t.sql(`DO $$ BEGIN
      PERFORM set_config('countersign.actor_id', '${user.userId}', true);
      UPDATE connections SET source_id = '${c.id}' WHERE id = '${connection.id}';
    END $$`);
    const [, moved] = (await historyOf(connection.id)).nodes;
    expect(moved).toMatchObject({ action: 'UPDATED', changedFields: ['sourceId'], oldValues: expect.objectContaining({ sourceId: a.id }),
      newValues: expect.objectContaining({ sourceId: c.id }), actor: { id: user.userId } });
    // Today's lists: the connection is the new record's, not the old one's.
    expect((await asOf(a.id, dateFromToday(0))).nodes).toEqual([]);
    expect((await asOf(c.id, dateFromToday(0))).nodes.map((n: any) => n.connectionId)).toEqual([connection.id]);
  });
});

describe('asOf: the list as it stood that day, past and present', () => {
  let asha: { id: string };
  let ids: { kept: string; changed: string; deleted: string; later: string };
  const day = (n: number) => dateFromToday(-n);

  beforeAll(async () => {
    asha = await contact(t, 'Time Traveller');
    const [o1, o2, o3, o4] = [await organization(t, 'Kept Org'), await organization(t, 'Changed Org'), await organization(t, 'Deleted Org'), await organization(t, 'Later Org')];
    const kept = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: asha.id, targetId: o1.id, startDate: day(400) })).connection.id;
    const changed = (await connect(t, { typeId: SYSTEM.boardMemberOf, sourceId: asha.id, targetId: o2.id, startDate: day(400), notes: 'first' })).connection.id;
    await gql(UPDATE, { id: changed, input: { endDate: day(50), notes: 'second' } });
    const deleted = (await connect(t, { typeId: SYSTEM.consultantAt, sourceId: asha.id, targetId: o3.id })).connection.id;
    await gql(DELETE, { id: deleted });
    const later = (await connect(t, { typeId: SYSTEM.previouslyWorkedAt, sourceId: asha.id, targetId: o4.id })).connection.id;
    ids = { kept, changed, deleted, later };
    await backdate(kept, [day(300)]);
    await backdate(changed, [day(300), day(100)]);
    await backdate(deleted, [day(200), day(60)]);
    await backdate(later, [day(10)]);
  });

  test('each day shows the connections that existed then, with their values of then', async () => {
    const at = async (n: number) => (await asOf(asha.id, day(n))).nodes.map((x: any) => x.connectionId).sort();
    expect(await at(301)).toEqual([]);
    expect(await at(300)).toEqual([ids.kept, ids.changed].sort());
    expect(await at(150)).toEqual([ids.kept, ids.changed, ids.deleted].sort());
    expect(await at(30)).toEqual([ids.kept, ids.changed].sort());
    expect(await at(0)).toEqual([ids.kept, ids.changed, ids.later].sort());

    const then = (await asOf(asha.id, day(150))).nodes.find((x: any) => x.connectionId === ids.changed);
    expect(then).toMatchObject({ notes: 'first', endDate: null, status: 'ACTIVE', label: 'board member of' });
    const after = (await asOf(asha.id, day(99))).nodes.find((x: any) => x.connectionId === ids.changed);
    expect(after).toMatchObject({ notes: 'second', endDate: day(50), status: 'ACTIVE' });
    const nowView = (await asOf(asha.id, day(0))).nodes.find((x: any) => x.connectionId === ids.changed);
    expect(nowView).toMatchObject({ status: 'INACTIVE' });
  });

  test('filters, counts and pages apply to the past list', async () => {
    const active = await asOf(asha.id, day(99), { filter: { status: 'ACTIVE' } });
    expect(active.nodes.map((n: any) => n.connectionId).sort()).toEqual([ids.kept, ids.changed, ids.deleted].sort());
    expect(active.totalCount).toBe(3);
    const inactive = await asOf(asha.id, day(30), { filter: { status: 'INACTIVE' } });
    expect(inactive.nodes.map((n: any) => n.connectionId)).toEqual([ids.changed]);
    const typed = await asOf(asha.id, day(150), { filter: { typeIds: [SYSTEM.consultantAt] } });
    expect(typed.nodes.map((n: any) => n.connectionId)).toEqual([ids.deleted]);
    const one = await asOf(asha.id, day(150), { first: 1 });
    const two = await asOf(asha.id, day(150), { first: 5, after: one.pageInfo.endCursor });
    expect([...one.nodes, ...two.nodes].map((n: any) => n.connectionId).sort()).toEqual([ids.kept, ids.changed, ids.deleted].sort());
    expect(one.totalCount).toBe(3);
  });

  test('asOf in the future is refused; the far past is an empty list', async () => {
    const res = await t.gql(AS_OF, { id: asha.id, asOf: dateFromToday(1) });
    expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argumentName: 'asOf' } });
    expect(res.body.errors?.[0].message).toContain('future');
    expect((await asOf(asha.id, '1900-01-01')).nodes).toEqual([]);
    const bad = await t.gql(AS_OF, { id: asha.id, asOf: '2024-02-30' });
    expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  test('a record soft-deleted now hides its connections in past lists too (only live records are shown)', async () => {
    const [a, b] = [await contact(t, 'Past Friend A'), await contact(t, 'Past Friend B')];
    const { connection } = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id });
    expect((await asOf(a.id, day(0))).nodes.map((n: any) => n.connectionId)).toEqual([connection.id]);
    const del = await t.gql(`mutation($id: ID!) { deleteRecord(id: $id) { ${USER_ERRORS} } }`, { id: b.id });
    expect(del.body.errors).toBeUndefined();
    expect((await asOf(a.id, day(0))).nodes).toEqual([]);
  });
});

describe('batched history within one operation', () => {
  test('two changes of one connection in one operation: each field reads the history as it stands after its own change', async () => {
    const a = await contact(t, 'Twice Changed');
    const b = await contact(t, 'Other Side');
    const { connection } = await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: b.id });
    const data = await gql(`mutation($id: ID!) {
      first: updateConnection(id: $id, input: { notes: "one" }) { connection { history(first: 10) { totalCount nodes { action } } } }
      second: updateConnection(id: $id, input: { notes: "two" }) { connection { history(first: 10) { totalCount nodes { action } } } }
    }`, { id: connection.id });
    expect(data.first.connection.history).toEqual({ totalCount: 2, nodes: [{ action: 'CREATED' }, { action: 'UPDATED' }] });
    expect(data.second.connection.history).toEqual({ totalCount: 3, nodes: [{ action: 'CREATED' }, { action: 'UPDATED' }, { action: 'UPDATED' }] });
  });
});
