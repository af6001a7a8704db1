import { createOtpRule } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, connect, contact, createRecord, organization } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('record_merge'); });
afterAll(() => t.close());

const MERGE = `mutation($survivorId: ID!, $mergedIds: [ID!]!, $fieldChoices: [FieldChoiceInput!], $otp: [OtpInput!]) {
  mergeRecords(survivorId: $survivorId, mergedIds: $mergedIds, fieldChoices: $fieldChoices, otp: $otp) {
    record { id label version fields }
    mergedIds
    connections { connectionId outcome intoConnectionId }
    userErrors { field message code }
  }
}`;

async function merge(variables: Record<string, unknown>, key?: string): Promise<any> {
  const res = await t.gql(MERGE, variables, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.mergeRecords;
}

const rowsOf = (ids: string[]) => t.sql(
  `SELECT id, source_id, target_id, start_date::text AS start_date, end_date::text AS end_date, properties FROM connections
    WHERE source_id = ANY($1::uuid[]) OR target_id = ANY($1::uuid[]) ORDER BY created_at, id`, [ids]);
const recordRow = async (id: string) => (await t.sql('SELECT deleted_at IS NOT NULL AS deleted, merged_into, version, fields FROM records WHERE id = $1', [id]))[0];

describe('merging records: successful cases', () => {
  test('fields come from the chosen records, the merged ones point at the survivor, and reading a merged id answers the survivor', async () => {
    const survivor = await createRecord(t, 'Contacts', { lastName: 'Rao', firstName: 'Asha', email: 'old@example.com' });
    const dup = await createRecord(t, 'Contacts', { lastName: 'Rao', firstName: 'A.', email: 'asha@example.com', title: 'CTO' });
    const payload = await merge({ survivorId: survivor.id, mergedIds: [dup.id], fieldChoices: [{ field: 'email', fromId: dup.id }, { field: 'firstName', fromId: survivor.id }] });
    expect(payload.userErrors).toEqual([]);
    expect(payload.mergedIds).toEqual([dup.id]);
    expect(payload.record.fields).toEqual({ lastName: 'Rao', firstName: 'Asha', email: 'asha@example.com' });
    expect(await recordRow(dup.id)).toMatchObject({ deleted: true, merged_into: survivor.id });

    const read = await t.gql(`query($id: ID!) { record(id: $id) { id label } }`, { id: dup.id });
    expect(read.body.data.record).toEqual({ id: survivor.id, label: 'Asha Rao' });
    const listed = await t.gql(`query { records(module: "Contacts", first: 100, includeDeleted: true) { nodes { id mergedInto { id } } } }`);
    expect(listed.body.data.records.nodes).toEqual(expect.arrayContaining([{ id: dup.id, mergedInto: { id: survivor.id } }, { id: survivor.id, mergedInto: null }]));
    const live = await t.gql(`query { records(module: "Contacts", first: 100) { nodes { id } } }`);
    expect(live.body.data.records.nodes.map((n: any) => n.id)).not.toContain(dup.id);
    const restore = await t.gql(`mutation($id: ID!) { restoreRecord(id: $id) { record { id } userErrors { code } } }`, { id: dup.id });
    expect(restore.body.data.restoreRecord).toEqual({ record: null, userErrors: [{ code: 'NOT_FOUND' }] });
  });

  test('connections move; one that duplicates the survivor\'s folds into it (dates widened, properties kept); a forbidden self-link ends', async () => {
    const survivor = await contact(t, 'Survivor');
    const dup = await contact(t, 'Duplicate');
    const [acme, globex] = [await organization(t, 'Acme M'), await organization(t, 'Globex M')];
    const kept = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: survivor.id, targetId: acme.id, startDate: '2020-01-01', endDate: '2021-12-31', notes: 'kept' })).connection;
    const folded = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: dup.id, targetId: acme.id, startDate: '2019-06-01', endDate: '2020-06-30' })).connection;
    const moved = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: dup.id, targetId: globex.id })).connection;
    const selfLink = (await connect(t, { typeId: SYSTEM.knows, sourceId: dup.id, targetId: survivor.id })).connection;
    const payload = await merge({ survivorId: survivor.id, mergedIds: [dup.id] });
    expect(payload.userErrors).toEqual([]);
    expect(payload.connections).toEqual([
      { connectionId: folded.id, outcome: 'FOLDED', intoConnectionId: kept.id },
      { connectionId: moved.id, outcome: 'MOVED', intoConnectionId: null },
      { connectionId: selfLink.id, outcome: 'ENDED', intoConnectionId: null },
    ]);
    const rows = await rowsOf([survivor.id, dup.id]);
    expect(rows.map((r: any) => r.id)).toEqual([kept.id, moved.id, selfLink.id]);
    expect(rows[0]).toMatchObject({ source_id: survivor.id, target_id: acme.id, start_date: '2019-06-01', end_date: '2021-12-31' });
    expect(rows[1]).toMatchObject({ source_id: survivor.id, target_id: globex.id });
    expect(rows[2]).toMatchObject({ source_id: survivor.id, target_id: survivor.id });
    expect(rows[2].end_date).not.toBeNull();
    const report = await t.gql('query { connectionIntegrityReport(first: 100) { nodes { connectionId kind } } }');
    expect(report.body.data.connectionIntegrityReport.nodes.filter((n: any) => [kept.id, moved.id, selfLink.id].includes(n.connectionId))).toEqual([]);
    // the changes are published like any other connection change, and the merge itself as record.merged
    const events = await t.sql(`SELECT type, subject FROM event_outbox WHERE subject = ANY($1::text[]) ORDER BY id`,
      [[`connection:${folded.id}`, `connection:${selfLink.id}`, `record:${survivor.id}`]]);
    expect(events.filter((e: any) => e.type !== 'connection.created')).toEqual([
      { type: 'connection.deleted', subject: `connection:${folded.id}` },
      { type: 'connection.ended', subject: `connection:${selfLink.id}` },
      { type: 'record.merged', subject: `record:${survivor.id}` },
    ]);
    // the history of each connection the merge changed names the merger, with the values before and after
    const history = await t.sql(`SELECT connection_id, action, actor_id, old_values->>'sourceId' AS old_source, new_values->>'sourceId' AS new_source
      FROM connection_history WHERE connection_id = ANY($1::uuid[]) AND action <> 'CREATED' ORDER BY id`, [[folded.id, moved.id, selfLink.id, kept.id]]);
    const admin = (await t.sql(`SELECT id FROM users WHERE email = 'admin@countersign.local'`))[0].id;
    expect(history.every((h: any) => h.actor_id === admin)).toBe(true);
    expect(history).toEqual(expect.arrayContaining([
      expect.objectContaining({ connection_id: moved.id, action: 'UPDATED', old_source: dup.id, new_source: survivor.id }),
      expect.objectContaining({ connection_id: folded.id, action: 'DELETED' }),
    ]));
  });

  test('ten records merge at once; a fold that reaches two of the survivor\'s connections folds all of them into the oldest', async () => {
    const survivor = await contact(t, 'Ten');
    const org = await organization(t, 'Fold Co');
    const early = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: survivor.id, targetId: org.id, startDate: '2010-01-01', endDate: '2012-12-31' })).connection;
    const late = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: survivor.id, targetId: org.id, startDate: '2015-01-01', endDate: '2016-12-31' })).connection;
    const dups = [];
    for (let i = 0; i < 10; i += 1) dups.push(await contact(t, `Ten dup ${i}`));
    const bridge = (await connect(t, { typeId: SYSTEM.worksAt, sourceId: dups[3].id, targetId: org.id, startDate: '2012-06-01', endDate: '2015-06-01' })).connection;
    const payload = await merge({ survivorId: survivor.id, mergedIds: dups.map((d) => d.id) });
    expect(payload.userErrors).toEqual([]);
    expect(payload.mergedIds).toHaveLength(10);
    expect(payload.connections).toEqual([
      { connectionId: bridge.id, outcome: 'FOLDED', intoConnectionId: early.id },
      { connectionId: late.id, outcome: 'FOLDED', intoConnectionId: early.id },
    ]);
    expect(await rowsOf([survivor.id])).toEqual([expect.objectContaining({ id: early.id, start_date: '2010-01-01', end_date: '2016-12-31' })]);
  });
});

describe('merging records: failing cases', () => {
  test('another user\'s ids: a READONLY user may not merge, and nothing changes', async () => {
    const readonly = await t.keyFor('READONLY');
    const [a, b] = [await contact(t, 'RO a'), await contact(t, 'RO b')];
    const res = await t.gql(MERGE, { survivorId: a.id, mergedIds: [b.id] }, { key: readonly.key });
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await recordRow(b.id)).toMatchObject({ deleted: false, merged_into: null });
  });

  test('merging a record into itself, or naming one twice, is refused listing each', async () => {
    const [a, b] = [await contact(t, 'Self a'), await contact(t, 'Self b')];
    const payload = await merge({ survivorId: a.id, mergedIds: [b.id, a.id, b.id] });
    expect(payload.record).toBeNull();
    expect(payload.userErrors.map((e: any) => [e.field, e.code])).toEqual([[['mergedIds', '1'], 'INVALID'], [['mergedIds', '2'], 'INVALID']]);
    expect(await recordRow(b.id)).toMatchObject({ deleted: false });
  });

  test('merging across modules, an unknown id and every bad field choice are reported at once; nothing changes', async () => {
    const [a, b] = [await contact(t, 'Cross a'), await contact(t, 'Cross b')];
    const org = await organization(t, 'Cross org');
    const payload = await merge({
      survivorId: a.id, mergedIds: [b.id, org.id, '00000000-0000-4000-8000-00000000dead'],
      fieldChoices: [{ field: 'nope', fromId: b.id }, { field: 'email', fromId: '00000000-0000-4000-8000-00000000beef' }, { field: 'title', fromId: b.id }, { field: 'title', fromId: a.id }],
    });
    expect(payload.userErrors.map((e: any) => [e.field.join('.'), e.code])).toEqual([
      ['mergedIds.1', 'INVALID'], ['mergedIds.2', 'NOT_FOUND'],
      ['fieldChoices.0.field', 'UNKNOWN_FIELD'], ['fieldChoices.1.fromId', 'INVALID'], ['fieldChoices.3.field', 'INVALID'],
    ]);
    expect(await recordRow(b.id)).toMatchObject({ deleted: false, merged_into: null });
  });

  test('a merged id reused as survivor (or merged again) is NOT_FOUND', async () => {
    const [a, b, c] = [await contact(t, 'Reuse a'), await contact(t, 'Reuse b'), await contact(t, 'Reuse c')];
    expect((await merge({ survivorId: a.id, mergedIds: [b.id] })).userErrors).toEqual([]);
    expect((await merge({ survivorId: b.id, mergedIds: [c.id] })).userErrors).toEqual([expect.objectContaining({ field: ['survivorId'], code: 'NOT_FOUND' })]);
    expect((await merge({ survivorId: c.id, mergedIds: [b.id] })).userErrors).toEqual([expect.objectContaining({ field: ['mergedIds', '0'], code: 'NOT_FOUND' })]);
    expect(await recordRow(c.id)).toMatchObject({ deleted: false });
  });

  test('inputs at and past the bound: 11 ids are refused with LIMIT_REACHED, none is empty', async () => {
    const survivor = await contact(t, 'Eleven');
    const ids: string[] = [];
    for (let i = 0; i < 11; i += 1) ids.push((await contact(t, `Eleven ${i}`)).id);
    expect((await merge({ survivorId: survivor.id, mergedIds: ids })).userErrors).toEqual([expect.objectContaining({ field: ['mergedIds'], code: 'LIMIT_REACHED' })]);
    expect((await merge({ survivorId: survivor.id, mergedIds: [] })).userErrors).toEqual([expect.objectContaining({ field: ['mergedIds'], code: 'INVALID' })]);
    const choices = (n: number) => Array.from({ length: n }, () => ({ field: 'title', fromId: ids[0] }));
    expect((await merge({ survivorId: survivor.id, mergedIds: [ids[0]], fieldChoices: choices(101) })).userErrors)
      .toEqual([expect.objectContaining({ field: ['fieldChoices'], code: 'LIMIT_REACHED' })]);
    expect((await merge({ survivorId: survivor.id, mergedIds: [ids[0]], fieldChoices: choices(100) })).userErrors)
      .toHaveLength(99); // at the bound the choices are checked: the 99 repeats of "title" are each refused
    expect(await t.sql('SELECT count(*)::int AS n FROM records WHERE id = ANY($1::uuid[]) AND deleted_at IS NOT NULL', [ids])).toEqual([{ n: 0 }]);
  });

  test('a limit refused halfway: an OTP rule guards the merge like an update of the survivor, and nothing moves', async () => {
    const small = await createRecord(t, 'Deals', { name: 'Small', stage: 'Proposal', amount: 500 });
    const big = await createRecord(t, 'Deals', { name: 'Big', stage: 'Proposal', amount: 5000 });
    await createOtpRule(t, { name: 'Merge guard', module: 'Deals', channels: ['EMAIL'], recipientField: null,
      conditions: [{ match: 'ALL', conditions: [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }] }] });
    const payload = await merge({ survivorId: small.id, mergedIds: [big.id], fieldChoices: [{ field: 'amount', fromId: big.id }] });
    expect(payload.record).toBeNull();
    expect(payload.userErrors.map((e: any) => e.code)).toEqual(['OTP_REQUIRED']);
    expect(await recordRow(big.id)).toMatchObject({ deleted: false, merged_into: null });
    expect(await recordRow(small.id)).toMatchObject({ fields: expect.objectContaining({ amount: 500 }) });
  });
});

describe('merging records: races', () => {
  test('a race of crossing merges: two merges whose records are linked to each other both succeed, 10 times over', async () => {
    for (let round = 0; round < 10; round += 1) {
      const [s1, m1, s2, m2] = [await contact(t, `Cross s1 ${round}`), await contact(t, `Cross m1 ${round}`), await contact(t, `Cross s2 ${round}`), await contact(t, `Cross m2 ${round}`)];
      // each merge locks its records' connections oldest first, and folds into a connection the other has locked
      await connect(t, { typeId: SYSTEM.knows, sourceId: s1.id, targetId: m2.id });
      await connect(t, { typeId: SYSTEM.knows, sourceId: m1.id, targetId: s2.id });
      await connect(t, { typeId: SYSTEM.knows, sourceId: m1.id, targetId: m2.id });
      const answers = await Promise.all([merge({ survivorId: s1.id, mergedIds: [m1.id] }), merge({ survivorId: s2.id, mergedIds: [m2.id] })]);
      expect(answers.map((a) => a.userErrors)).toEqual([[], []]);
      const rows = await rowsOf([s1.id, s2.id, m1.id, m2.id]);
      expect(rows.flatMap((r: any) => [r.source_id, r.target_id]).filter((id: string) => id === m1.id || id === m2.id)).toEqual([]);
      expect(rows).toHaveLength(1); // all three now say "s1 knows s2": folded into one
    }
  });


  test('a race of parallel merges of the same records: one wins, the others are NOT_FOUND, no connection is lost or duplicated', async () => {
    const survivor = await contact(t, 'Race survivor');
    const dups = [await contact(t, 'Race 1'), await contact(t, 'Race 2')];
    const org = await organization(t, 'Race org');
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: dups[0].id, targetId: org.id });
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: dups[1].id, targetId: org.id });
    const answers = await Promise.all(Array.from({ length: 10 }, () => merge({ survivorId: survivor.id, mergedIds: dups.map((d) => d.id) })));
    expect(answers.filter((a) => a.userErrors.length === 0)).toHaveLength(1);
    expect(answers.filter((a) => a.userErrors.length > 0).every((a) => a.userErrors.every((e: any) => e.code === 'NOT_FOUND'))).toBe(true);
    expect((await rowsOf([survivor.id, ...dups.map((d) => d.id)])).map((r: any) => [r.source_id, r.target_id])).toEqual([[survivor.id, org.id]]);
  });

  test('a 20-way race of merges and creates over the same records leaves no duplicate and no dangling connection', async () => {
    const people = [];
    for (let i = 0; i < 6; i += 1) people.push(await contact(t, `Mixed ${i}`));
    const orgs = [await organization(t, 'Mixed org 1'), await organization(t, 'Mixed org 2')];
    for (const [i, p] of people.entries()) await connect(t, { typeId: SYSTEM.worksAt, sourceId: p.id, targetId: orgs[i % 2].id });
    await connect(t, { typeId: SYSTEM.knows, sourceId: people[0].id, targetId: people[3].id });
    const ids = people.map((p) => p.id);
    const work = Array.from({ length: 20 }, (_, i) => (i % 2 === 0
      ? merge({ survivorId: ids[i % 6], mergedIds: [ids[(i + 1) % 6], ids[(i + 3) % 6]] })
      : t.gql(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { connection { id } userErrors { code } } }`,
        { input: { typeId: SYSTEM.knows, sourceId: ids[i % 6], targetId: ids[(i + 2) % 6] } })
        .then((res) => { if (res.body.errors) throw new Error(JSON.stringify(res.body.errors)); return res.body.data.createConnection; })));
    const answers = await Promise.all(work);
    for (const answer of answers) expect(answer.userErrors.every((e: any) => ['NOT_FOUND', 'DUPLICATE_CONNECTION', 'INVALID'].includes(e.code))).toBe(true);
    const dangling = await t.sql(
      `SELECT c.id FROM connections c JOIN records r ON r.id IN (c.source_id, c.target_id) WHERE r.merged_into IS NOT NULL AND r.id = ANY($1::uuid[])`, [ids]);
    expect(dangling).toEqual([]);
    const report = await t.gql('query { connectionIntegrityReport(first: 100) { nodes { connectionId kind } } }');
    const rows = await rowsOf(ids);
    expect(report.body.data.connectionIntegrityReport.nodes.filter((n: any) => rows.some((r: any) => r.id === n.connectionId))).toEqual([]);
  });

  test('a race of 20 creates on either record during a merge ends with no duplicate and no link to a merged record', async () => {
    const survivor = await contact(t, 'Busy survivor');
    const dup = await contact(t, 'Busy dup');
    const orgs = [await organization(t, 'Busy 1'), await organization(t, 'Busy 2')];
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: dup.id, targetId: orgs[0].id });
    const creates = Array.from({ length: 20 }, (_, i) => t.gql(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { connection { id } userErrors { code } } }`,
      { input: { typeId: SYSTEM.worksAt, sourceId: i % 2 ? survivor.id : dup.id, targetId: orgs[i % 4 < 2 ? 0 : 1].id } }));
    const [merged, ...created] = await Promise.all([merge({ survivorId: survivor.id, mergedIds: [dup.id] }), ...creates]);
    expect(merged.userErrors).toEqual([]);
    for (const res of created) {
      expect(res.body.errors).toBeUndefined();
      const codes = res.body.data.createConnection.userErrors.map((e: any) => e.code);
      expect(codes.length === 0 || ['DUPLICATE_CONNECTION', 'NOT_FOUND'].includes(codes[0])).toBe(true);
    }
    const rows = await rowsOf([survivor.id, dup.id]);
    expect(rows.every((r: any) => r.source_id === survivor.id)).toBe(true);
    expect(rows.map((r: any) => r.target_id).sort()).toEqual(orgs.map((o) => o.id).sort());
    const report = await t.gql('query { connectionIntegrityReport(first: 100) { nodes { connectionId kind } } }');
    expect(report.body.data.connectionIntegrityReport.nodes.filter((n: any) => rows.some((r: any) => r.id === n.connectionId))).toEqual([]);
  });
});
