import { Client } from 'pg';
import { createOtpRule, createRecord, updateRecord, type RecordPayload } from '../support/api';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * updateRecord writes a plain save without a lock (read, then an UPDATE that applies only at the version read) and
 * takes the locked transaction for everything else. These attempts race saves against each other, against deletes and
 * against guarded saves, and check that no save is lost, no version is skipped or repeated, and no guard is bypassed.
 */
const MOBILE = '+919876543210';
const MOBILE_CODE = '482913';
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('record_update_races', {
    OTP_TEST_RECIPIENTS: `${MOBILE}:${MOBILE_CODE}`,
    OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '10000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '10000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '10000',
  });
});
afterAll(() => t.close());

const stored = async (id: string) => (await t.sql('SELECT version, fields, deleted_at FROM records WHERE id = $1', [id]))[0];
const codes = (payload: RecordPayload) => payload.userErrors.map((e) => e.code);

/** A save of one Leads field to a value only this save writes. */
const LEAD_FIELDS = ['firstName', 'lastName', 'company', 'email', 'mobile', 'phone', 'annualRevenue'] as const;
function leadChange(i: number): Record<string, unknown> {
  const field = LEAD_FIELDS[i % LEAD_FIELDS.length];
  const value = field === 'email' ? `race${i}@example.com` : field === 'mobile' || field === 'phone' ? `+91 98000 ${String(10000 + i)}` : field === 'annualRevenue' ? 1000 + i : `Race ${i}`;
  return { [field]: value };
}

/** Holds a record's row lock in a transaction of the test's own, so saves that reach the row queue behind it in order. */
async function holdRowLock(id: string): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: t.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM records WHERE id = $1 FOR NO KEY UPDATE', [id]);
  return { async release() { await client.query('COMMIT'); await client.end(); } };
}

/** Waits until `n` statements of the server wait for a lock (the held row's, or the tuple lock queued behind it). */
async function waitingOnLock(n: number): Promise<void> {
  await until(`${n} statement(s) waiting for a lock`, async () => {
    const [row] = await t.sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    return row.n === n;
  }, 10_000);
}

describe('attacker: races of 50 saves on one record', () => {
  test('50 concurrent updates, each its own change: every change kept, versions 1..51 without gap or repeat, each save applied on top of the one before', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Race' });
    const changes = Array.from({ length: 50 }, (_, i) => leadChange(i));
    const saved = await Promise.all(changes.map((change) => updateRecord(t, lead.id, change)));
    expect(saved.flatMap((s) => s.userErrors)).toEqual([]);
    const versions = saved.map((s) => s.record!.version);
    expect([1, ...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    // replay in version order: each answer is the one before it with its own change, so no save wrote over another
    const byVersion = saved.map((s, i) => ({ record: s.record!, change: changes[i] })).sort((a, b) => a.record.version - b.record.version);
    let fields: Record<string, unknown> = { lastName: 'Race' };
    for (const { record, change } of byVersion) {
      fields = { ...fields, ...change };
      expect(record.fields).toEqual(fields);
    }
    expect(await stored(lead.id)).toEqual({ version: 51, fields, deleted_at: null });
  });

  test('a save that read the record before another save wrote it is not lost: it is made again on the newer version', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Queued' });
    const lock = await holdRowLock(lead.id);
    const first = updateRecord(t, lead.id, { company: 'First' });
    await waitingOnLock(1);
    const second = updateRecord(t, lead.id, { firstName: 'Second' }); // read version 1 too
    await waitingOnLock(2);
    await lock.release();
    const [a, b] = await Promise.all([first, second]);
    expect([a.record!.version, b.record!.version]).toEqual([2, 3]);
    expect(b.record!.fields).toEqual({ lastName: 'Queued', company: 'First', firstName: 'Second' });
    expect(await stored(lead.id)).toMatchObject({ version: 3, fields: { lastName: 'Queued', company: 'First', firstName: 'Second' } });
  });

  test('50 concurrent updates all with expectedVersion = the current one: exactly one saved, 49 CONFLICT, the version moves once', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Expected' });
    const saved = await Promise.all(Array.from({ length: 50 }, (_, i) => updateRecord(t, lead.id, leadChange(i), { expectedVersion: 1 })));
    const winners = saved.filter((s) => s.record);
    expect(winners).toHaveLength(1);
    expect(saved.filter((s) => codes(s).join() === 'CONFLICT')).toHaveLength(49);
    expect(await stored(lead.id)).toMatchObject({ version: 2, fields: winners[0].record!.fields });
  });
});

describe('attacker: expectedVersion at and past the current version', () => {
  test('at the current version saves; the same (now stale) version again, and versions past the current one, are CONFLICT with nothing written', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Bounds' });
    await updateRecord(t, lead.id, { company: 'Two' });
    const atCurrent = await updateRecord(t, lead.id, { company: 'Three' }, { expectedVersion: 2 });
    expect(atCurrent.record).toMatchObject({ version: 3 });
    for (const expectedVersion of [2, 4, 5, 2_147_483_647, 0, -1]) {
      const refused = await updateRecord(t, lead.id, { company: `Never ${expectedVersion}` }, { expectedVersion });
      expect(refused.record).toBeNull();
      expect(codes(refused)).toEqual(['CONFLICT']);
    }
    expect(await stored(lead.id)).toMatchObject({ version: 3, fields: { lastName: 'Bounds', company: 'Three' } });
  });
});

describe('attacker: a soft delete between the read and the write', () => {
  test('the delete queued first wins: the save that read the live record answers NOT_FOUND and writes nothing', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Deleted', company: 'Before' });
    const lock = await holdRowLock(lead.id);
    const deleted = t.gql('mutation($id: ID!) { deleteRecord(id: $id) { record { id } userErrors { code } } }', { id: lead.id });
    await waitingOnLock(1);
    const save = updateRecord(t, lead.id, { company: 'After' }); // reads the record live (the delete has not committed)
    await waitingOnLock(2);
    await lock.release();
    expect((await deleted).body.data.deleteRecord.userErrors).toEqual([]);
    const refused = await save;
    expect(refused.record).toBeNull();
    expect(codes(refused)).toEqual(['NOT_FOUND']);
    const row = await stored(lead.id);
    expect(row).toMatchObject({ version: 1, fields: { lastName: 'Deleted', company: 'Before' } });
    expect(row.deleted_at).not.toBeNull();
  });

  test('50 updates racing a delete: each is saved before it or NOT_FOUND, and the stored record is the last save before it', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Racing delete' });
    const before = Array.from({ length: 25 }, (_, i) => updateRecord(t, lead.id, leadChange(i)));
    const deleted = t.gql('mutation($id: ID!) { deleteRecord(id: $id) { userErrors { code } } }', { id: lead.id });
    const after = Array.from({ length: 25 }, (_, i) => updateRecord(t, lead.id, leadChange(25 + i)));
    const saves = await Promise.all([...before, ...after]);
    expect((await deleted).body.data.deleteRecord.userErrors).toEqual([]);
    expect(saves.every((s) => s.record !== null || codes(s).join() === 'NOT_FOUND')).toBe(true);
    const savedVersions = saves.filter((s) => s.record).map((s) => s.record!.version).sort((a, b) => a - b);
    expect(savedVersions).toEqual(Array.from({ length: savedVersions.length }, (_, i) => i + 2));
    const last = saves.find((s) => s.record?.version === savedVersions.length + 1);
    const row = await stored(lead.id);
    expect(row.deleted_at).not.toBeNull();
    expect(row.version).toBe(savedVersions.length + 1);
    expect(row.fields).toEqual(last ? last.record!.fields : { lastName: 'Racing delete' });
  });
});

describe('attacker: a save into a protected state during a race of plain saves', () => {
  const deactivation = {
    module: 'Contacts', channels: ['SMS'], recipientField: 'mobile', name: 'Race deactivation', maxValidationAttempts: 10,
    conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
  };

  test('without an OTP, with a wrong one, with another record\'s: refused every time while 50 plain saves go through; then the right OTP saves once', async () => {
    const rule = await createOtpRule(t, deactivation);
    const user = await t.keyFor('USER');
    const contact = await createRecord(t, 'Contacts', { lastName: 'Protected', mobile: MOBILE, contactStatus: 'Active' });
    const other = await createRecord(t, 'Contacts', { lastName: 'Other', mobile: MOBILE, contactStatus: 'Active' });
    const sendFor = async (id: string) => {
      const sent = await t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { userErrors { code } } }', { r: rule.id, id }, { key: user.key });
      expect(sent.body.data.sendRuleOtp.userErrors).toEqual([]);
    };
    const otp = (code: string) => ({ otp: [{ rule: String(rule.id), code }], key: user.key });
    const enter = { contactStatus: 'Inactive' };
    const plainSaves = (n: number) => Array.from({ length: n }, (_, i) => updateRecord(t, contact.id, { title: `Title ${i}` }, { key: user.key }));

    await sendFor(other.id); // the other record's code is the right code, for the other record
    const round1 = await Promise.all([
      ...plainSaves(25),
      updateRecord(t, contact.id, enter, { key: user.key }),
      updateRecord(t, contact.id, { ...enter, title: 'With it' }, { key: user.key }),
      updateRecord(t, contact.id, enter, otp('000000')),
      updateRecord(t, contact.id, enter, otp(MOBILE_CODE)),
      ...plainSaves(25),
    ]);
    const guarded1 = round1.slice(25, 29);
    expect(guarded1.map((s) => s.record)).toEqual([null, null, null, null]);
    expect(guarded1.map(codes)).toEqual([['OTP_REQUIRED'], ['OTP_REQUIRED'], ['OTP_INVALID'], ['OTP_INVALID']]); // the other record's code is not this one's
    expect(round1.filter((s) => s.record)).toHaveLength(50);
    expect(await stored(contact.id)).toMatchObject({ version: 51, fields: { contactStatus: 'Active' } });

    await sendFor(contact.id);
    const round2 = await Promise.all([...plainSaves(25), updateRecord(t, contact.id, enter, otp('000000')), updateRecord(t, contact.id, enter), ...plainSaves(25)]);
    expect(round2.slice(25, 27).map(codes)).toEqual([['OTP_INVALID'], ['OTP_REQUIRED']]);
    expect(await stored(contact.id)).toMatchObject({ version: 101, fields: { contactStatus: 'Active' } });

    const round3 = await Promise.all([...plainSaves(25), updateRecord(t, contact.id, enter, otp(MOBILE_CODE)), ...plainSaves(25)]);
    expect(round3.flatMap((s) => s.userErrors)).toEqual([]);
    expect(round3[25].record!.fields.contactStatus).toBe('Inactive');
    expect(await stored(contact.id)).toMatchObject({ version: 152, fields: { contactStatus: 'Inactive' } });
    const reused = await updateRecord(t, contact.id, { contactStatus: 'Active' }, { key: user.key });
    expect(reused.userErrors).toEqual([]);
    expect(codes(await updateRecord(t, contact.id, enter, otp(MOBILE_CODE)))).toEqual(['OTP_INVALID']); // consumed by its save
    expect((await stored(other.id))).toMatchObject({ version: 1, fields: { contactStatus: 'Active' } });
    await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id: rule.id });
  });
});
