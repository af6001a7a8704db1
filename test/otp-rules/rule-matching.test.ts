import { startTestServer, type TestServer } from '../support/test-server';

// Which saves a rule matches: entering a state (never locking a record), one text comparison for every operator, and
// no detour through a closed state. Fixed codes for these recipients (OTP_TEST_RECIPIENTS) so tests know the code.
const MOBILE = '+919876543210';
const MOBILE_CODE = '482913';
const ADMIN_CODE = '771204';
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('rule_matching', {
    OTP_TEST_RECIPIENTS: `${MOBILE}:${MOBILE_CODE},admin@countersign.local:${ADMIN_CODE}`,
    OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '10000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '10000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '10000',
    OTP_RULES_LIMIT: '1000',
  });
});
afterAll(() => t.close());
afterEach(async () => {
  // Each test defines its own rules; deactivate them so they do not guard the next test's saves.
  const res = await t.gql('{ otpRules(active: true) { id } }');
  for (const { id } of res.body.data.otpRules) await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id });
});

type Rule = { id: number; name: string };
type Saved = { record: { id: string; version: number; fields: Record<string, unknown> } | null; userErrors: Array<{ code: string; details: any }> };

let ruleNumber = 0;
async function createRule(input: Record<string, unknown>): Promise<Rule> {
  ruleNumber += 1;
  const res = await t.gql('mutation($input: OtpRuleInput!) { createOtpRule(input: $input) { otpRule { id name } userErrors { field message } } }',
    { input: { name: `Matching ${ruleNumber}`, ...input } });
  expect(res.body.data.createOtpRule.userErrors).toEqual([]);
  return res.body.data.createOtpRule.otpRule;
}

async function create(module: string, fields: Record<string, unknown>): Promise<string> {
  const res = await t.gql('mutation($m: String!, $f: JSONObject!) { createRecord(module: $m, fields: $f) { record { id } userErrors { code } } }', { m: module, f: fields });
  expect(res.body.data.createRecord.userErrors).toEqual([]);
  return res.body.data.createRecord.record.id;
}

const update = async (id: string, fields: Record<string, unknown>, otp?: Array<{ rule: string; code: string }>): Promise<Saved> =>
  (await t.gql(`mutation($id: ID!, $fields: JSONObject!, $otp: [OtpInput!]) {
    updateRecord(id: $id, fields: $fields, otp: $otp) { record { id version fields } userErrors { code details } } }`, { id, fields, otp })).body.data.updateRecord;

const codes = (saved: Saved) => saved.userErrors.map((e) => e.code);

async function sendRuleOtp(rule: Rule, recordId: string): Promise<void> {
  const res = await t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { otpRequest { id } userErrors { code message } } }', { r: rule.id, id: recordId });
  expect(res.body.data.sendRuleOtp.userErrors).toEqual([]);
}

/** A guarded save done properly: send the rule's OTP, then save with it. */
async function saveWithOtp(rule: Rule, id: string, fields: Record<string, unknown>, code: string): Promise<Saved> {
  await sendRuleOtp(rule, id);
  const saved = await update(id, fields, [{ rule: String(rule.id), code }]);
  expect(saved.userErrors).toEqual([]);
  return saved;
}

const fieldsOf = async (id: string) => (await t.sql('SELECT fields FROM records WHERE id = $1', [id]))[0].fields;

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
    expect((await t.gql('mutation($id: ID!) { deleteRecord(id: $id) { userErrors { code } } }', { id })).body.data.deleteRecord.userErrors).toEqual([]);
    expect((await t.gql('mutation($id: ID!) { restoreRecord(id: $id) { userErrors { code } } }', { id })).body.data.restoreRecord.userErrors).toEqual([]);
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
    const imported = await t.gql(`mutation { importRecords(module: "Leads", rows: [
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
    expect(await t.sql('SELECT * FROM otp_rule_checked_states WHERE record_id = $1', [id])).toEqual([]);
  });

  test('a rule that guards reopening itself (HAS_CHANGED_FROM a closed state) is not skipped', async () => {
    await createRule(partnerSource({ conditions: [{ match: 'ALL', conditions: [{ field: 'leadStatus', operator: 'HAS_CHANGED_FROM', value: 'Lost' }] }] }));
    const id = await lead();
    await update(id, { leadStatus: 'Junk' });
    await update(id, { leadStatus: 'Lost' });
    expect(codes(await update(id, { leadStatus: 'New' }))).toEqual(['OTP_REQUIRED']);
  });
});
