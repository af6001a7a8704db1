import { FIRST_HOP_FANOUT, NEXT_HOP_FANOUT } from '../../src/connections/connection-paths';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, USER_ERRORS, connect, contact, createRecord, organization } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('conn_paths'); });
afterAll(() => t.close());

const PATHS = `query($from: ID!, $to: ID!, $maxHops: Int, $typeIds: [ID!], $activeOn: LocalDate, $first: Int) {
  connectionPaths(from: $from, to: $to, maxHops: $maxHops, typeIds: $typeIds, activeOn: $activeOn, first: $first) {
    hops recordIds
    records { id label }
    steps { connectionId label direction from { label } to { label } type { name } }
  }
}`;

const CONFLICTS = `query($recordId: ID!, $against: [ID!]!, $maxHops: Int) {
  conflictCheck(recordId: $recordId, against: $against, maxHops: $maxHops) {
    recordId linked record { label }
    path { hops steps { label from { label } to { label } } }
  }
}`;

async function paths(variables: Record<string, unknown>, key?: string) {
  const res = await t.gql(PATHS, variables, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.connectionPaths;
}
const readable = (path: any) => path.steps.map((s: any) => `${s.from.label} ${s.label} ${s.to.label}`).join(' / ');

/** Asha works at Acme, which employs Bo; Bo knows Cy; Cy is a board member of Initech, which has Dee as consultant. */
let asha: any; let acme: any; let bo: any; let cy: any; let initech: any; let dee: any;
beforeAll(async () => {
  [asha, bo, cy, dee] = [await contact(t, 'Asha'), await contact(t, 'Bo'), await contact(t, 'Cy'), await contact(t, 'Dee')];
  [acme, initech] = [await organization(t, 'Acme'), await organization(t, 'Initech')];
  await connect(t, { typeId: SYSTEM.worksAt, sourceId: asha.id, targetId: acme.id, startDate: '2020-01-01' });
  await connect(t, { typeId: SYSTEM.worksAt, sourceId: bo.id, targetId: acme.id });
  await connect(t, { typeId: SYSTEM.knows, sourceId: cy.id, targetId: bo.id });
  await connect(t, { typeId: SYSTEM.boardMemberOf, sourceId: cy.id, targetId: initech.id });
  await connect(t, { typeId: SYSTEM.consultantAt, sourceId: dee.id, targetId: initech.id, endDate: '2019-12-31' });
});

describe('connectionPaths: shortest paths with each hop read from the walker\'s side', () => {
  test('a 4-hop path across modules, labels from the walker\'s side', async () => {
    const [path, ...others] = await paths({ from: asha.id, to: initech.id, maxHops: 4 });
    expect(others).toEqual([]);
    expect(readable(path)).toBe('Asha is working at Acme / Acme employs Bo / Bo knows Cy / Cy board member of Initech');
    expect(path.steps.map((s: any) => s.direction)).toEqual(['OUTGOING', 'INCOMING', 'MUTUAL', 'OUTGOING']);
    // Dee is a 5th hop away: beyond the bound
    expect(await paths({ from: asha.id, to: dee.id, maxHops: 4 })).toEqual([]);
    expect((await paths({ from: asha.id, to: bo.id, maxHops: 1 }))).toEqual([]);
  });

  test('the shortest path wins, then the next ones; every hop read from where the walker stands', async () => {
    const found = await paths({ from: bo.id, to: initech.id, maxHops: 4, first: 5 });
    expect(found.map((p: any) => p.hops)).toEqual([2]);
    expect(readable(found[0])).toBe('Bo knows Cy / Cy board member of Initech');
    expect(found[0].records.map((r: any) => r.label)).toEqual(['Bo', 'Cy', 'Initech']);
    const back = await paths({ from: initech.id, to: bo.id, maxHops: 2 });
    expect(readable(back[0])).toBe('Initech has board member Cy / Cy knows Bo');
    expect(back[0].steps.map((s: any) => s.direction)).toEqual(['INCOMING', 'MUTUAL']);
  });

  test('types and activeOn narrow the walk; no path is an empty list', async () => {
    expect(await paths({ from: asha.id, to: cy.id, maxHops: 4, typeIds: [SYSTEM.worksAt] })).toEqual([]);
    const withKnows = await paths({ from: asha.id, to: cy.id, maxHops: 4, typeIds: [SYSTEM.worksAt, SYSTEM.knows] });
    expect(withKnows.map((p: any) => p.hops)).toEqual([3]);
    expect(await paths({ from: asha.id, to: cy.id, maxHops: 3, activeOn: '2019-01-01' })).toEqual([]);
    expect((await paths({ from: asha.id, to: cy.id, maxHops: 3, activeOn: '2021-01-01' })).map((p: any) => p.hops)).toEqual([3]);
    expect(await paths({ from: cy.id, to: dee.id, maxHops: 4, activeOn: '2021-01-01' })).toEqual([]);
    expect((await paths({ from: cy.id, to: dee.id, maxHops: 2 })).map((p: any) => p.hops)).toEqual([2]);
  });

  test('a READONLY user may search', async () => {
    const reader = await t.keyFor('READONLY');
    expect((await paths({ from: asha.id, to: bo.id, maxHops: 2 }, reader.key)).map((p: any) => p.hops)).toEqual([2]);
  });
});

describe('attacker: paths over cycles', () => {
  test('a triangle and a square give each simple path once, never a record twice', async () => {
    const ring = [await contact(t, 'Ring 0'), await contact(t, 'Ring 1'), await contact(t, 'Ring 2'), await contact(t, 'Ring 3')];
    for (let i = 0; i < 4; i += 1) await connect(t, { typeId: SYSTEM.knows, sourceId: ring[i].id, targetId: ring[(i + 1) % 4].id });
    await connect(t, { typeId: SYSTEM.knows, sourceId: ring[0].id, targetId: ring[2].id });
    const found = await paths({ from: ring[0].id, to: ring[2].id, maxHops: 4, first: 20 });
    expect(found.map((p: any) => p.hops)).toEqual([1, 2, 2]);
    for (const p of found) expect(new Set(p.recordIds).size).toBe(p.recordIds.length);
  });
});

describe('attacker: a fan-out bomb (one record with 10⁴ links)', () => {
  test('paths through the hub are found within the cost limit, and a hub at the end is walked up to its bound', async () => {
    const hub = await organization(t, 'Hub Corp');
    const [{ count }] = await t.sql(`WITH people AS (
        INSERT INTO records (module, fields, label, owner_id)
        SELECT 'Contacts', jsonb_build_object('lastName', 'Hub person ' || n), 'Hub person ' || n, '00000000-0000-4000-8000-000000000001'
          FROM generate_series(1, 10000) AS n RETURNING id)
      , links AS (INSERT INTO connections (type_id, source_id, target_id, created_by)
        SELECT '${SYSTEM.worksAt}', id, '${hub.id}', '00000000-0000-4000-8000-000000000001' FROM people RETURNING id)
      SELECT count(*)::int AS count FROM links`);
    expect(count).toBe(10000);
    const [outsider, insider] = [await contact(t, 'Outsider'), await contact(t, 'Insider')];
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: insider.id, targetId: hub.id });
    await connect(t, { typeId: SYSTEM.knows, sourceId: outsider.id, targetId: insider.id });
    const started = Date.now();
    const found = await paths({ from: outsider.id, to: hub.id, maxHops: 4 });
    expect(found[0].hops).toBe(2);
    const [person] = await t.sql(`SELECT r.id FROM records r WHERE r.label = 'Hub person 77'`);
    const viaHub = await paths({ from: person.id, to: outsider.id, maxHops: 4 });
    expect(readable(viaHub[0])).toBe('Hub person 77 is working at Hub Corp / Hub Corp employs Insider / Insider knows Outsider');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(FIRST_HOP_FANOUT).toBeGreaterThan(NEXT_HOP_FANOUT);
  });
});

describe('attacker: inputs past every bound', () => {
  test('maxHops 5 and 0 are refused, first 21 is refused, a bad date is refused', async () => {
    for (const [variables, argumentName] of [
      [{ maxHops: 5 }, 'maxHops'], [{ maxHops: 0 }, 'maxHops'], [{ first: 21 }, 'first'],
    ] as const) {
      const res = await t.gql(PATHS, { from: asha.id, to: bo.id, ...variables });
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName });
    }
    const badDate = await t.gql(PATHS, { from: asha.id, to: bo.id, activeOn: '2024-02-30' });
    expect(badDate.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  test('101 against ids are refused; 100 are answered, one result per distinct id', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const refused = await t.gql(CONFLICTS, { recordId: asha.id, against: many });
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'against' });
    const answered = await t.gql(CONFLICTS, { recordId: asha.id, against: [...many.slice(0, 99), bo.id] });
    expect(answered.body.errors).toBeUndefined();
    expect(answered.body.data.conflictCheck).toHaveLength(100);
    expect(answered.body.data.conflictCheck.filter((r: any) => r.linked).map((r: any) => r.recordId)).toEqual([bo.id]);
  });

  test('unknown or malformed ids: from/to refused, against answered not linked with no record', async () => {
    const res = await t.gql(PATHS, { from: 'nope', to: bo.id });
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'from' });
    const conflicts = await t.gql(CONFLICTS, { recordId: asha.id, against: ['nope', '00000000-0000-4000-8000-00000000dead'] });
    expect(conflicts.body.data.conflictCheck).toEqual([
      { recordId: 'nope', linked: false, record: null, path: null },
      { recordId: '00000000-0000-4000-8000-00000000dead', linked: false, record: null, path: null },
    ]);
  });
});

describe('conflictCheck: which records are linked within N hops, and how', () => {
  test('each against record answered with a shortest path or not linked', async () => {
    const stranger = await contact(t, 'Stranger');
    const vendor = await createRecord(t, 'Vendors', { name: 'Vendor Nobody' });
    const res = await t.gql(CONFLICTS, { recordId: asha.id, against: [bo.id, cy.id, dee.id, stranger.id, vendor.id], maxHops: 3 });
    expect(res.body.errors).toBeUndefined();
    const byId = Object.fromEntries(res.body.data.conflictCheck.map((r: any) => [r.recordId, r]));
    expect(byId[bo.id]).toMatchObject({ linked: true, record: { label: 'Bo' }, path: { hops: 2 } });
    expect(byId[bo.id].path.steps.map((s: any) => s.label)).toEqual(['is working at', 'employs']);
    expect(byId[cy.id]).toMatchObject({ linked: true, path: { hops: 3 } });
    expect(byId[dee.id]).toMatchObject({ linked: false, path: null });
    expect(byId[stranger.id]).toMatchObject({ linked: false, record: { label: 'Stranger' } });
    expect(byId[vendor.id]).toMatchObject({ linked: false });
  });
});

describe('attacker: deleted records in the middle of a path', () => {
  test('a soft-deleted record breaks the paths through it, and is never an end', async () => {
    const [a, mid, b] = [await contact(t, 'Del A'), await contact(t, 'Del Mid'), await contact(t, 'Del B')];
    await connect(t, { typeId: SYSTEM.knows, sourceId: a.id, targetId: mid.id });
    await connect(t, { typeId: SYSTEM.knows, sourceId: mid.id, targetId: b.id });
    expect((await paths({ from: a.id, to: b.id, maxHops: 2 })).map((p: any) => p.hops)).toEqual([2]);
    await t.gql(`mutation($id: ID!) { deleteRecord(id: $id) { ${USER_ERRORS} } }`, { id: mid.id });
    expect(await paths({ from: a.id, to: b.id, maxHops: 4 })).toEqual([]);
    const conflict = await t.gql(CONFLICTS, { recordId: a.id, against: [b.id, mid.id], maxHops: 4 });
    expect(conflict.body.data.conflictCheck).toEqual([
      { recordId: b.id, linked: false, record: { label: 'Del B' }, path: null },
      { recordId: mid.id, linked: false, record: null, path: null },
    ]);
    const deletedEnd = await t.gql(PATHS, { from: a.id, to: mid.id });
    expect(deletedEnd.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'to' });
  });
});
