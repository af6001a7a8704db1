import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, UPDATE_TYPE, connect, contact, createRecord, createType, dateFromToday, organization } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('conn_integrity'); });
afterAll(() => t.close());

const REPORT = `query($kinds: [IntegrityIssueKind!], $first: Int, $after: String) {
  connectionIntegrityReport(kinds: $kinds, first: $first, after: $after) {
    totalCount
    nodes { kind connectionId sourceId targetId message repairs duplicateOfId connection { id status } type { name } source { label } target { label } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const REPAIR = `mutation($actions: [RepairActionInput!]!, $dryRun: Boolean) {
  repairConnections(actions: $actions, dryRun: $dryRun) {
    dryRun appliedCount
    results { connectionId kind action applied message userErrors { field message code } }
    userErrors { field message code }
  }
}`;

async function findingsFor(connectionId: string) {
  const res = await t.gql(REPORT, { first: 100 });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.connectionIntegrityReport.nodes.filter((f: { connectionId: string }) => f.connectionId === connectionId);
}

async function repair(actions: Array<{ connectionId: string; kind: string; action: string }>, dryRun = false) {
  const res = await t.gql(REPAIR, { actions, dryRun });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.repairConnections;
}

async function typeWithConnection(name: string, extra: Record<string, unknown> = {}) {
  const { connectionType } = await createType(t, { name, inverseName: `${name} (inverse)`, sourceModules: ['Contacts'], targetModules: ['Organizations', 'Vendors'], ...extra });
  const person = await contact(t, `${name} person`);
  const vendor = await createRecord(t, 'Vendors', { name: `${name} vendor` });
  const { connection } = await connect(t, { typeId: connectionType.id, sourceId: person.id, targetId: vendor.id });
  return { typeId: connectionType.id, connection, person, vendor };
}

describe('connection integrity: successful cases', () => {
  test('modules that no longer fit are reported; a dry run changes nothing; END ends the connection and closes the finding', async () => {
    const { typeId, connection } = await typeWithConnection('supplies');
    await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] }, policy: 'IGNORE' });
    const [finding] = await findingsFor(connection.id);
    expect(finding).toMatchObject({ kind: 'MODULE_MISMATCH', repairs: ['END', 'DELETE', 'IGNORE'], connection: { id: connection.id, status: 'ACTIVE' } });
    expect(finding.message).toContain('no longer links these modules');

    const dry = await repair([{ connectionId: connection.id, kind: 'MODULE_MISMATCH', action: 'END' }], true);
    expect(dry).toMatchObject({ dryRun: true, appliedCount: 0, userErrors: [], results: [{ applied: false, userErrors: [] }] });
    expect(dry.results[0].message).toBe(`Would end connection ${connection.id} and accept its MODULE_MISMATCH finding as history.`);
    expect(await t.sql('SELECT end_date FROM connections WHERE id = $1', [connection.id])).toEqual([{ end_date: null }]);

    const done = await repair([{ connectionId: connection.id, kind: 'MODULE_MISMATCH', action: 'END' }]);
    expect(done).toMatchObject({ dryRun: false, appliedCount: 1, results: [{ applied: true, message: `Ended connection ${connection.id} and accept its MODULE_MISMATCH finding as history.` }] });
    expect(await t.sql('SELECT end_date::text FROM connections WHERE id = $1', [connection.id])).toEqual([{ end_date: dateFromToday(-1) }]);
    expect(await findingsFor(connection.id)).toEqual([]);
  });

  test('properties that no longer fit are reported; IGNORE keeps the connection and silences the finding', async () => {
    const { typeId, connection } = await typeWithConnection('licenses');
    await t.gql(UPDATE_TYPE, { id: typeId, input: { properties: [{ key: 'seats', label: 'Seats', type: 'NUMBER', required: true }] }, policy: 'IGNORE' });
    expect((await findingsFor(connection.id)).map((f: { kind: string }) => f.kind)).toEqual(['INVALID_PROPERTIES']);
    const done = await repair([{ connectionId: connection.id, kind: 'INVALID_PROPERTIES', action: 'IGNORE' }]);
    expect(done.results[0]).toMatchObject({ applied: true, userErrors: [] });
    expect(await findingsFor(connection.id)).toEqual([]);
    expect(await t.sql('SELECT end_date, acknowledged_issues FROM connections WHERE id = $1', [connection.id]))
      .toEqual([{ end_date: null, acknowledged_issues: ['INVALID_PROPERTIES'] }]);
  });

  test('forbidden self-links are reported and DELETE removes them', async () => {
    const { connectionType } = await createType(t, { name: 'reflects on', inverseName: 'reflected on by', sourceModules: ['Contacts'], targetModules: ['Contacts'], allowSelf: true });
    const me = await contact(t, 'Mirror');
    const { connection } = await connect(t, { typeId: connectionType.id, sourceId: me.id, targetId: me.id });
    await t.gql(UPDATE_TYPE, { id: connectionType.id, input: { allowSelf: false }, policy: 'IGNORE' });
    expect((await findingsFor(connection.id)).map((f: { kind: string }) => f.kind)).toEqual(['SELF_LINK']);
    const done = await repair([{ connectionId: connection.id, kind: 'SELF_LINK', action: 'DELETE' }]);
    expect(done.results[0]).toMatchObject({ applied: true, message: `Deleted connection ${connection.id}.` });
    expect(await t.sql('SELECT id FROM connections WHERE id = $1', [connection.id])).toEqual([]);
  });

  test('active connections of a deactivated type are stale; ended ones are not', async () => {
    const { typeId, connection, person } = await typeWithConnection('sponsors club');
    const org = await organization(t, 'Old Club');
    const ended = (await connect(t, { typeId, sourceId: person.id, targetId: org.id, endDate: '2000-01-01' })).connection;
    await t.gql(UPDATE_TYPE, { id: typeId, input: { active: false } });
    expect((await findingsFor(connection.id)).map((f: { kind: string }) => f.kind)).toEqual(['STALE_STATUS']);
    expect(await findingsFor(ended.id)).toEqual([]);
  });

  test('dangling endpoints (a record removed behind the foreign keys\' back) are reported with DELETE or IGNORE', async () => {
    const { connection, vendor } = await typeWithConnection('dangles');
    // simulates rows restored from an old backup or written by another tool with triggers off
    await t.sql(`SET session_replication_role = replica`);
    await t.sql('DELETE FROM records WHERE id = $1', [vendor.id]);
    await t.sql(`SET session_replication_role = DEFAULT`);
    const [finding] = await findingsFor(connection.id);
    expect(finding).toMatchObject({ kind: 'DANGLING_ENDPOINT', repairs: ['DELETE', 'IGNORE'], connection: null, targetId: vendor.id,
      type: { name: 'dangles' }, source: { label: 'dangles person' }, target: null });
    expect(finding.message).toContain(`target record ${vendor.id} no longer exists`);
    const refused = await repair([{ connectionId: connection.id, kind: 'DANGLING_ENDPOINT', action: 'END' }]);
    expect(refused.results[0]).toMatchObject({ applied: false, userErrors: [expect.objectContaining({ code: 'INVALID', field: ['actions', '0'] })] });
    const done = await repair([{ connectionId: connection.id, kind: 'DANGLING_ENDPOINT', action: 'DELETE' }]);
    expect(done.appliedCount).toBe(1);
    expect(await t.sql('SELECT id FROM connections WHERE id = $1', [connection.id])).toEqual([]);
  });

  test('duplicates (rows from before the constraint) are reported against the older connection', async () => {
    const [a, org] = [await contact(t, 'Legacy'), await organization(t, 'Legacy Org')];
    const { connection: older } = await connect(t, { typeId: SYSTEM.worksAt, sourceId: a.id, targetId: org.id });
    const [{ def }] = await t.sql(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'EX_connections_no_overlap'`);
    await t.sql('ALTER TABLE connections DROP CONSTRAINT "EX_connections_no_overlap"');
    const [{ id: newer }] = await t.sql(`INSERT INTO connections (type_id, source_id, target_id, start_date, created_by)
                                        SELECT type_id, source_id, target_id, '2024-01-01', created_by FROM connections WHERE id = $1 RETURNING id`, [older.id]);
    const [finding] = await findingsFor(newer);
    expect(finding).toMatchObject({ kind: 'DUPLICATE', duplicateOfId: older.id, repairs: ['DELETE', 'IGNORE'] });
    expect(await findingsFor(older.id)).toEqual([]);
    await repair([{ connectionId: newer, kind: 'DUPLICATE', action: 'DELETE' }]);
    await t.sql(`ALTER TABLE connections ADD CONSTRAINT "EX_connections_no_overlap" ${def}`);
    expect(await t.sql('SELECT count(*)::int AS n FROM connections WHERE source_id = $1', [a.id])).toEqual([{ n: 1 }]);
  });

  test('the report filters by kind and pages with first/after', async () => {
    const { typeId } = await typeWithConnection('pager');
    const person = await contact(t, 'pager extra');
    for (let i = 0; i < 3; i += 1) {
      const vendor = await createRecord(t, 'Vendors', { name: `pager vendor ${i}` });
      await connect(t, { typeId, sourceId: person.id, targetId: vendor.id });
    }
    await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] }, policy: 'IGNORE' });
    const all = await t.gql(REPORT, { kinds: ['MODULE_MISMATCH'], first: 100 });
    const total = all.body.data.connectionIntegrityReport.totalCount;
    expect(total).toBeGreaterThanOrEqual(4);
    expect(all.body.data.connectionIntegrityReport.nodes.every((f: { kind: string }) => f.kind === 'MODULE_MISMATCH')).toBe(true);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res: any = await t.gql(REPORT, { kinds: ['MODULE_MISMATCH'], first: 2, after });
      const page: any = res.body.data.connectionIntegrityReport;
      seen.push(...page.nodes.map((f: { connectionId: string }) => f.connectionId));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(all.body.data.connectionIntegrityReport.nodes.map((f: { connectionId: string }) => f.connectionId));
    expect(new Set(seen).size).toBe(total);
  });
});

describe('connection integrity: failing cases', () => {
  test('an action for a finding that does not exist is NOT_FOUND; the others in the request still apply', async () => {
    const { typeId, connection } = await typeWithConnection('mixed');
    await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] }, policy: 'IGNORE' });
    const done = await repair([
      { connectionId: connection.id, kind: 'DUPLICATE', action: 'DELETE' },
      { connectionId: 'not-an-id', kind: 'SELF_LINK', action: 'DELETE' },
      { connectionId: connection.id, kind: 'MODULE_MISMATCH', action: 'DELETE' },
      { connectionId: connection.id, kind: 'MODULE_MISMATCH', action: 'IGNORE' },
    ]);
    expect(done.results.map((r: any) => [r.applied, r.userErrors.map((e: any) => e.code)])).toEqual([
      [false, ['NOT_FOUND']], [false, ['NOT_FOUND']], [true, []], [false, ['CONFLICT']],
    ]);
    expect(done.appliedCount).toBe(1);
  });

  test('only admins read the report or repair', async () => {
    for (const role of ['USER', 'READONLY'] as const) {
      const { key } = await t.keyFor(role);
      const report = await t.gql(REPORT, {}, { key });
      expect(report.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const fix = await t.gql(REPAIR, { actions: [] }, { key });
      expect(fix.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });

  test('a malformed report cursor is a client error', async () => {
    const res = await t.gql(REPORT, { after: 'nonsense' });
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
