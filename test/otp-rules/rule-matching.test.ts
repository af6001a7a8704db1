import { ADMIN_CODE, MOBILE, MOBILE_CODE, RuleWorld } from './rule-world';

// Which saves a rule matches: entering a state (never locking a record), one text comparison for every operator, and
// no detour through a closed state.
const w = new RuleWorld();
beforeAll(() => w.start('rule_matching'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());
const { codes } = RuleWorld;
const createRule = (input: Record<string, unknown>) => w.createRule(input);
const create = (module: string, fields: Record<string, unknown>) => w.create(module, fields);
const update = (id: string, fields: Record<string, unknown>, otp?: Array<{ rule: string; code: string }>) => w.update(id, fields, otp);
const saveWithOtp = (rule: { id: number }, id: string, fields: Record<string, unknown>, code: string) => w.saveWithOtp(rule, id, fields, code);
const fieldsOf = (id: string) => w.fieldsOf(id);

/** Deals above 1,000: the OTP goes to the acting user's email (admin@countersign.local). */
const bigDeal = (extra: Record<string, unknown> = {}) => ({
  module: 'Deals', channels: ['EMAIL'], recipientField: null,
  conditions: [{ match: 'ALL', conditions: [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }] }],
  ...extra,
});

describe('a rule never locks a record: only a save that enters the guarded state needs the OTP', () => {
  test('editing other fields, or moving within the state, of a deal already above the limit needs no OTP', async () => {
    const rule = await createRule(bigDeal());
    const id = await create('Deals', { name: 'Big one', stage: 'Proposal', amount: 500 });
    expect(codes(await update(id, { amount: 5000 }))).toEqual(['OTP_REQUIRED']);
    await saveWithOtp(rule, id, { amount: 5000 }, ADMIN_CODE);

    const renamed = await update(id, { name: 'Big one (renamed)', probability: 60 });
    expect(renamed.userErrors).toEqual([]);
    expect(renamed.record!.fields).toMatchObject({ name: 'Big one (renamed)', amount: 5000 });
    expect((await update(id, { amount: 7000 })).userErrors).toEqual([]);
  });

  test('attacker: leaving the state and coming back in needs a new OTP', async () => {
    const rule = await createRule(bigDeal());
    const id = await create('Deals', { name: 'Yo-yo', stage: 'Proposal', amount: 500 });
    await saveWithOtp(rule, id, { amount: 5000 }, ADMIN_CODE);
    expect((await update(id, { amount: 900 })).userErrors).toEqual([]);
    const reentered = await update(id, { amount: 2000 });
    expect(codes(reentered)).toEqual(['OTP_REQUIRED']);
    expect((await fieldsOf(id)).amount).toBe(900);
    await saveWithOtp(rule, id, { amount: 2000 }, ADMIN_CODE);
  });

  test('attacker: a HAS_CHANGED_TO alternative is not switched off by a state alternative the record is already in', async () => {
    // ANY(stage → Closed Won, amount > 10,000): a deal above 10,000 may still not be won without the OTP
    const rule = await createRule(bigDeal({ conditions: [{ match: 'ANY', conditions: [
      { field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }, { field: 'amount', operator: 'GREATER_THAN', value: 10000 },
    ] }] }));
    const id = await create('Deals', { name: 'Huge', stage: 'Proposal', amount: 500 });
    await saveWithOtp(rule, id, { amount: 20000 }, ADMIN_CODE);
    expect((await update(id, { probability: 90 })).userErrors).toEqual([]);
    expect(codes(await update(id, { stage: 'Closed Won' }))).toEqual(['OTP_REQUIRED']);
  });
});

describe('attacker: changing the case or padding a value to slip past a rule', () => {
  test('HAS_CHANGED_TO " vp sales " guards a save to "VP Sales" (text is compared trimmed, ignoring case)', async () => {
    const rule = await createRule({ module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
      conditions: [{ match: 'ALL', conditions: [{ field: 'title', operator: 'HAS_CHANGED_TO', value: ' vp sales ' }] }] });
    const id = await create('Contacts', { lastName: 'Case', mobile: MOBILE, title: 'Engineer' });
    const refused = await update(id, { title: 'VP Sales' });
    expect(codes(refused)).toEqual(['OTP_REQUIRED']);
    expect(refused.userErrors[0].details.ruleId).toBe(rule.id);
    expect((await fieldsOf(id)).title).toBe('Engineer');
    await saveWithOtp(rule, id, { title: 'VP Sales' }, MOBILE_CODE);
    // only the case changes: not a change of the guarded value
    expect((await update(id, { title: 'vp sales' })).userErrors).toEqual([]);
  });
});

/** Leads whose source becomes Partner need an OTP sent to the lead's mobile; closed leads (Converted, Lost, Junk) are skipped. */
const partnerSource = (extra: Record<string, unknown> = {}) => ({
  module: 'Leads', channels: ['SMS'], recipientField: 'mobile',
  conditions: [{ match: 'ALL', conditions: [{ field: 'leadSource', operator: 'HAS_CHANGED_TO', value: 'Partner' }] }],
  ...extra,
});
const lead = (fields: Record<string, unknown> = {}) => create('Leads', { lastName: `Lead ${Math.random()}`, mobile: MOBILE, leadStatus: 'New', leadSource: 'Web', ...fields });

describe('attacker: a detour through a closed state the rule skips (close, change, reopen)', () => {
  test('close as Junk, change the guarded field while closed, reopen: the reopening save needs the OTP', async () => {
    const rule = await createRule(partnerSource());
    const id = await lead();
    expect((await update(id, { leadStatus: 'Junk' })).userErrors).toEqual([]);
    expect((await update(id, { leadSource: 'Partner' })).userErrors).toEqual([]); // skipped: the lead is closed
    expect((await update(id, { leadStatus: 'Lost' })).userErrors).toEqual([]); // still closed
    const reopened = await update(id, { leadStatus: 'New' });
    expect(codes(reopened)).toEqual(['OTP_REQUIRED']);
    expect(reopened.userErrors[0].details.ruleId).toBe(rule.id);
    expect((await fieldsOf(id)).leadStatus).toBe('Lost');

    await saveWithOtp(rule, id, { leadStatus: 'New' }, MOBILE_CODE);
    // checked now: the next edit compares with the reopened state
    expect((await update(id, { company: 'Acme' })).userErrors).toEqual([]);
  });

  test('a state rule: a deal closed, raised above the limit while closed, and reopened needs the OTP', async () => {
    const rule = await createRule(bigDeal());
    const id = await create('Deals', { name: 'Detour', stage: 'Proposal', amount: 500 });
    expect((await update(id, { stage: 'Closed Lost' })).userErrors).toEqual([]);
    expect((await update(id, { amount: 50000 })).userErrors).toEqual([]);
    expect(codes(await update(id, { stage: 'Negotiation' }))).toEqual(['OTP_REQUIRED']);
    await saveWithOtp(rule, id, { stage: 'Negotiation' }, ADMIN_CODE);
  });

  test('the detour with a soft delete and restore in between is still caught at reopening', async () => {
    await createRule(partnerSource());
    const id = await lead();
    await update(id, { leadStatus: 'Junk' });
    await update(id, { leadSource: 'Partner' });
    expect((await w.t.gql('mutation($id: ID!) { deleteRecord(id: $id) { userErrors { code } } }', { id })).body.data.deleteRecord.userErrors).toEqual([]);
    expect((await w.t.gql('mutation($id: ID!) { restoreRecord(id: $id) { userErrors { code } } }', { id })).body.data.restoreRecord.userErrors).toEqual([]);
    expect(codes(await update(id, { leadStatus: 'Contacted' }))).toEqual(['OTP_REQUIRED']);
  });

  test('a refused reopening changes nothing: trying again is refused again', async () => {
    await createRule(partnerSource());
    const id = await lead();
    await update(id, { leadStatus: 'Junk' });
    await update(id, { leadSource: 'Partner' });
    expect(codes(await update(id, { leadStatus: 'New' }))).toEqual(['OTP_REQUIRED']);
    expect(codes(await update(id, { leadStatus: 'Contacted', company: 'Other' }))).toEqual(['OTP_REQUIRED']);
  });

  test('an imported closed lead counts as checked as imported: reopening it unchanged is free, after a change while closed it is not', async () => {
    await createRule(partnerSource());
    const imported = await w.t.gql(`mutation { importRecords(module: "Leads", rows: [
      { lastName: "Imported partner", mobile: "${MOBILE}", leadStatus: "Junk", leadSource: "Partner" },
      { lastName: "Imported web", mobile: "${MOBILE}", leadStatus: "Junk", leadSource: "Web" }]) { importedCount rows { record { id } } } }`);
    expect(imported.body.data.importRecords.importedCount).toBe(2);
    const [asImported, changed] = imported.body.data.importRecords.rows.map((r: { record: { id: string } }) => r.record.id);
    expect((await update(asImported, { leadStatus: 'New' })).userErrors).toEqual([]);

    expect((await update(changed, { leadSource: 'Partner' })).userErrors).toEqual([]);
    expect(codes(await update(changed, { leadStatus: 'New' }))).toEqual(['OTP_REQUIRED']);
  });

  test('rules never lock a closed record: closing, editing while closed and reopening without touching the guarded field is free', async () => {
    const id = await lead({ leadSource: 'Partner' }); // created before the rule (a create into the state is refused)
    await createRule(partnerSource());
    expect((await update(id, { leadStatus: 'Junk' })).userErrors).toEqual([]);
    expect((await update(id, { company: 'Closed Co' })).userErrors).toEqual([]);
    expect((await update(id, { leadStatus: 'Contacted' })).userErrors).toEqual([]);
    expect(await w.t.sql('SELECT * FROM otp_rule_checked_states WHERE record_id = $1', [id])).toEqual([]);
  });

  test('a rule that guards reopening itself (HAS_CHANGED_FROM a closed state) is not skipped', async () => {
    await createRule(partnerSource({ conditions: [{ match: 'ALL', conditions: [{ field: 'leadStatus', operator: 'HAS_CHANGED_FROM', value: 'Lost' }] }] }));
    const id = await lead();
    await update(id, { leadStatus: 'Junk' });
    await update(id, { leadStatus: 'Lost' });
    expect(codes(await update(id, { leadStatus: 'New' }))).toEqual(['OTP_REQUIRED']);
  });
});
