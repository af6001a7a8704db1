import { createOtpRule, createRecord, listAll } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

// Fixed codes for these recipients (OTP_TEST_RECIPIENTS), so tests know the right code without reading messages.
const MOBILE = '+919876543210';
const MOBILE_CODE = '482913';
const ADMIN_CODE = '771204';
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('guarded_saves', {
    OTP_TEST_RECIPIENTS: `${MOBILE}:${MOBILE_CODE},admin@countersign.local:${ADMIN_CODE}`,
    OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '10000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '10000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '10000',
    OTP_RULES_LIMIT: '1000',
  });
});
afterAll(() => t.close());

let ruleNumber = 0;
async function createRule(input: Record<string, unknown>) {
  ruleNumber += 1;
  return createOtpRule(t, { name: `Rule ${ruleNumber}`, ...input });
}

/** Rules on Contacts sending an SMS to the record's mobile when the contact is deactivated. */
const deactivation = (extra: Record<string, unknown> = {}) => ({
  module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
  conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
  ...extra,
});

async function contact(fields: Record<string, unknown> = {}) {
  return createRecord(t, 'Contacts', { lastName: `Guarded ${Math.random()}`, mobile: MOBILE, contactStatus: 'Active', ...fields });
}

const UPDATE = `mutation($id: ID!, $fields: JSONObject!, $otp: [OtpInput!], $expectedVersion: Int) {
  updateRecord(id: $id, fields: $fields, otp: $otp, expectedVersion: $expectedVersion) {
    record { id version fields }
    userErrors { field message code details }
  }
}`;
const update = async (id: string, fields: Record<string, unknown>, options: { otp?: unknown[]; headers?: Record<string, string>; key?: string; expectedVersion?: number } = {}) =>
  (await t.gql(UPDATE, { id, fields, otp: options.otp, expectedVersion: options.expectedVersion }, { headers: options.headers, key: options.key })).body.data.updateRecord;

async function sendRuleOtp(ruleId: number, recordId: string, key?: string) {
  const res = await t.gql(`mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) {
      otpRequest { id status maskedMobileNo maskedEmail source rule { id name } record { id } } userErrors { code message } } }`, { r: ruleId, id: recordId }, { key });
  return res.body.data.sendRuleOtp;
}

const statusOf = async (id: string) => (await t.sql('SELECT fields FROM records WHERE id = $1', [id]))[0].fields.contactStatus;

afterEach(async () => {
  // Each test defines its own rules; deactivate them so they do not guard the next test's saves.
  for (const { id } of await listAll(t, 'otpRules', 'id', { active: true })) {
    await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id });
  }
});

describe('guarded saves: successful cases', () => {
  test('sendRuleOtp sends to the record\'s recipient field; the typed otp argument then lets the save through and consumes the OTP', async () => {
    const rule = await createRule(deactivation());
    const { id } = await contact();
    const sent = await sendRuleOtp(rule.id, id);
    expect(sent.userErrors).toEqual([]);
    expect(sent.otpRequest).toMatchObject({ status: 'PENDING', maskedMobileNo: '******3210', source: `otp_rule_${rule.id}`, rule: { id: rule.id, name: rule.name }, record: { id } });

    const saved = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] });
    expect(saved.userErrors).toEqual([]);
    expect(saved.record.fields.contactStatus).toBe('Inactive');
    expect((await t.sql('SELECT status FROM otp_requests WHERE id = $1', [sent.otpRequest.id]))[0].status).toBe('VERIFIED');

    // The code verified once: the same transition again needs a new OTP.
    await update(id, { contactStatus: 'Active' });
    const reused = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] });
    expect(reused.userErrors.map((e: { code: string }) => e.code)).toEqual(['OTP_INVALID']);
  });

  test.each([
    ['typed argument by sanitised name, any case', (r: Rule) => ({ otp: [{ rule: r.sanitizedName.toLowerCase(), code: MOBILE_CODE }] })],
    ['fields key OTPRULES_OTP_<id>', (r: Rule) => ({ fields: { [`OTPRULES_OTP_${r.id}`]: MOBILE_CODE } })],
    ['fields key otprules_otp_<NAME> in other case', (r: Rule) => ({ fields: { [`otprules_otp_${r.sanitizedName.toUpperCase()}`]: MOBILE_CODE } })],
    ['header OTPRULES-OTP-<id>', (r: Rule) => ({ headers: { [`OTPRULES-OTP-${r.id}`]: MOBILE_CODE } })],
    ['header written with underscores OTPRULES_OTP_<name>', (r: Rule) => ({ headers: { [`OTPRULES_OTP_${r.sanitizedName}`]: MOBILE_CODE } })],
  ] as Array<[string, (r: Rule) => { otp?: unknown[]; fields?: Record<string, string>; headers?: Record<string, string> }]>)('the OTP is accepted as %s', async (_form, carry) => {
    const rule = await createRule(deactivation());
    const { id } = await contact();
    await sendRuleOtp(rule.id, id);
    const given = carry(rule);
    const saved = await update(id, { contactStatus: 'Inactive', ...given.fields }, { otp: given.otp, headers: given.headers });
    expect(saved.userErrors).toEqual([]);
    expect(saved.record.fields).not.toHaveProperty(Object.keys(given.fields ?? { none: 1 })[0]); // the key is never saved
    expect(await statusOf(id)).toBe('Inactive');
  });

  test('the Vtiger example name: "Test Rule 1 & Test 2 @ XYZ" is passed as OTPRULES_OTP_TestRule1Test2XYZ', async () => {
    const rule = await createRule(deactivation({ name: 'Test Rule 1 & Test 2 @ XYZ' }));
    expect(rule.sanitizedName).toBe('TestRule1Test2XYZ');
    const { id } = await contact();
    await sendRuleOtp(rule.id, id);
    const saved = await update(id, { contactStatus: 'Inactive', OTPRULES_OTP_TestRule1Test2XYZ: MOBILE_CODE });
    expect(saved.userErrors).toEqual([]);
  });

  test('two rules matching one save need both OTPs; one alone is refused and is not burned', async () => {
    const bySms = await createRule(deactivation());
    const byEmail = await createRule(deactivation({ channels: ['EMAIL'], recipientField: null }));
    const { id } = await contact();
    await sendRuleOtp(bySms.id, id);
    const emailOtp = await sendRuleOtp(byEmail.id, id);
    expect(emailOtp.otpRequest.maskedEmail).toBe('a***@countersign.local');

    const partial = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(bySms.id), code: MOBILE_CODE }] });
    expect(partial.record).toBeNull();
    expect(partial.userErrors).toEqual([expect.objectContaining({ code: 'OTP_REQUIRED', details: expect.objectContaining({ ruleId: byEmail.id, otpSent: true, sentTo: ['a***@countersign.local'] }) })]);
    expect(await statusOf(id)).toBe('Active');

    const both = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(bySms.id), code: MOBILE_CODE }, { rule: String(byEmail.id), code: ADMIN_CODE }] });
    expect(both.userErrors).toEqual([]);
  });

  test('a save refused for another reason leaves the OTP usable', async () => {
    const rule = await createRule(deactivation());
    const { id, version } = await contact();
    await sendRuleOtp(rule.id, id);
    await update(id, { title: 'moved on' }); // version + 1
    const stale = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }], expectedVersion: version });
    expect(stale.userErrors.map((e: { code: string }) => e.code)).toEqual(['CONFLICT']);
    const saved = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] });
    expect(saved.userErrors).toEqual([]);
  });

  test('rules apply only to their profiles, skip closed records unless allowed, and imports are exempt', async () => {
    await createRule(deactivation({ applicableProfiles: ['Sales'] }));
    const support = await t.keyFor('USER', 'Support');
    const sales = await t.keyFor('USER', 'Sales');
    const a = await contact();
    expect((await update(a.id, { contactStatus: 'Inactive' }, { key: support.key })).userErrors).toEqual([]);
    const b = await contact();
    expect((await update(b.id, { contactStatus: 'Inactive' }, { key: sales.key })).userErrors.map((e: { code: string }) => e.code)).toEqual(['OTP_REQUIRED']);

    const onTitle = (allowClosedRecords: boolean) => createRule({ ...deactivation(), allowClosedRecords, conditions: [{ match: 'ALL', conditions: [{ field: 'title', operator: 'HAS_CHANGED' }] }] });
    const closed = await contact({ contactStatus: 'Inactive' });
    const skipping = await onTitle(false);
    expect((await update(closed.id, { title: 'Retired' })).userErrors).toEqual([]);
    await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { allowClosedRecords: true }) { userErrors { code } } }', { id: skipping.id });
    expect((await update(closed.id, { title: 'Retired again' })).userErrors.map((e: { code: string }) => e.code)).toEqual(['OTP_REQUIRED']);

    const imported = await t.gql('mutation { importRecords(module: "Contacts", rows: [{ lastName: "Imported", contactStatus: "Inactive", title: "x" }]) { importedCount } }');
    expect(imported.body.data.importRecords.importedCount).toBe(1);
  });

  test('autoSendOnMatch: a refused save sends the OTP itself and says where', async () => {
    const rule = await createRule(deactivation({ autoSendOnMatch: true }));
    const { id } = await contact();
    const refused = await update(id, { contactStatus: 'Inactive' });
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'OTP_REQUIRED', details: expect.objectContaining({ ruleId: rule.id, otpSent: true, sentTo: ['******3210'] }) })]);
    expect(await t.sql('SELECT status FROM otp_requests WHERE rule_id = $1 AND record_id = $2', [rule.id, id])).toEqual([{ status: 'PENDING' }]);
    expect((await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] })).userErrors).toEqual([]);
  });

  test('resend modes: NEW_CODE replaces the live OTP, SAME_CODE_IF_VALID resends it; sends are capped per reset window', async () => {
    const fresh = await createRule(deactivation({ resendMode: 'NEW_CODE', maxResendAttempts: 1 }));
    const { id } = await contact();
    const first = await sendRuleOtp(fresh.id, id);
    const second = await sendRuleOtp(fresh.id, id);
    expect(second.otpRequest.id).not.toBe(first.otpRequest.id);
    expect((await t.sql('SELECT status FROM otp_requests WHERE id = $1', [first.otpRequest.id]))[0].status).toBe('CANCELED');
    const third = await sendRuleOtp(fresh.id, id);
    expect(third.userErrors.map((e: { code: string }) => e.code)).toEqual(['LIMIT_REACHED']);
    await t.sql("UPDATE otp_requests SET created_at = created_at - interval '2 hours' WHERE rule_id = $1", [fresh.id]); // the reset window passes
    expect((await sendRuleOtp(fresh.id, id)).userErrors).toEqual([]);

    const same = await createRule(deactivation({ resendMode: 'SAME_CODE_IF_VALID' }));
    const other = await contact();
    const a = await sendRuleOtp(same.id, other.id);
    await t.sql("UPDATE otp_requests SET last_sent_at = last_sent_at - interval '1 minute' WHERE id = $1", [a.otpRequest.id]); // past the resend cooldown
    const b = await sendRuleOtp(same.id, other.id);
    expect(b.otpRequest.id).toBe(a.otpRequest.id);
    expect((await t.sql('SELECT send_count FROM otp_requests WHERE id = $1', [a.otpRequest.id]))[0].send_count).toBe(2);
  });

  test('sendRuleOtpBulk sends per record and reports per record', async () => {
    const rule = await createRule(deactivation());
    const ok1 = await contact();
    const ok2 = await contact();
    const noMobile = await contact({ mobile: null });
    const res = await t.gql('mutation($r: Int!, $ids: [ID!]!) { sendRuleOtpBulk(ruleId: $r, recordIds: $ids) { sentCount results { recordId otpRequest { id } userErrors { code } } userErrors { code } } }',
      { r: rule.id, ids: [ok1.id, ok2.id, noMobile.id, 'not-an-id'] });
    const payload = res.body.data.sendRuleOtpBulk;
    expect(payload.sentCount).toBe(2);
    expect(payload.results.map((r: { recordId: string; userErrors: Array<{ code: string }> }) => [r.recordId, r.userErrors.map((e) => e.code)])).toEqual([
      [ok1.id, []], [ok2.id, []], [noMobile.id, ['INVALID']], ['not-an-id', ['NOT_FOUND']],
    ]);
    const tooMany = await t.gql('mutation($r: Int!, $ids: [ID!]!) { sendRuleOtpBulk(ruleId: $r, recordIds: $ids) { sentCount userErrors { code } } }',
      { r: rule.id, ids: Array.from({ length: 21 }, () => ok1.id) });
    expect(tooMany.body.data.sendRuleOtpBulk).toEqual({ sentCount: 0, userErrors: [{ code: 'LIMIT_REACHED' }] });
  });
});

type Rule = { id: number; name: string; sanitizedName: string };

describe('guarded saves: failing cases', () => {
  test('a create that matches is refused with OTP_RULE_BLOCKS_CREATE and nothing is written', async () => {
    const rule = await createRule(deactivation());
    const before = await t.sql('SELECT count(*)::int AS n FROM records');
    const res = await t.gql('mutation { createRecord(module: "Contacts", fields: { lastName: "Born closed", contactStatus: "Inactive" }) { record { id } userErrors { code details } } }');
    expect(res.body.data.createRecord).toEqual({ record: null, userErrors: [{ code: 'OTP_RULE_BLOCKS_CREATE', details: { ruleId: rule.id, ruleName: rule.name } }] });
    expect(await t.sql('SELECT count(*)::int AS n FROM records')).toEqual(before);
  });

  test('a matching update without an OTP is OTP_REQUIRED, listing the rule, its keys and that nothing was sent yet', async () => {
    const rule = await createRule(deactivation());
    const { id } = await contact();
    const refused = await update(id, { contactStatus: 'Inactive', title: 'also changed' });
    expect(refused.record).toBeNull();
    expect(refused.userErrors).toEqual([{
      field: ['otp'], code: 'OTP_REQUIRED', message: expect.stringContaining(`OTP rule ${rule.id}`),
      details: expect.objectContaining({ ruleId: rule.id, ruleName: rule.name, otpSent: false, sentTo: [], acceptedKeys: expect.arrayContaining([`fields.OTPRULES_OTP_${rule.id}`, `header OTPRULES-OTP-${rule.sanitizedName}`]) }),
    }]);
    const [row] = await t.sql('SELECT version, fields FROM records WHERE id = $1', [id]);
    expect(row.version).toBe(1);
    expect(row.fields.title).toBeUndefined();
  });

  test('wrong codes count as attempts, then OTP_LOCKED until the reset window passes (injected clock)', async () => {
    const rule = await createRule(deactivation({ maxValidationAttempts: 3, resetValidationAfterSeconds: 600 }));
    const { id } = await contact();
    await sendRuleOtp(rule.id, id);
    const wrong = async () => (await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: '000000' }] })).userErrors[0];
    expect(await wrong()).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
    expect(await wrong()).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 1 } });
    expect(await wrong()).toMatchObject({ code: 'OTP_LOCKED' });
    const right = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] });
    expect(right.userErrors).toEqual([expect.objectContaining({ code: 'OTP_LOCKED', details: expect.objectContaining({ retryAfterSeconds: expect.any(Number) }) })]);
    expect(await statusOf(id)).toBe('Active');

    t.app.services.clock.advance(601_000);
    await sendRuleOtp(rule.id, id); // the locked request is spent; a new one is needed
    expect((await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] })).userErrors).toEqual([]);
  });

  test('20 parallel wrong guesses: exactly maxValidationAttempts are counted, then every answer is OTP_LOCKED', async () => {
    const rule = await createRule(deactivation({ maxValidationAttempts: 5 }));
    const { id } = await contact();
    await sendRuleOtp(rule.id, id);
    const answers = await Promise.all(Array.from({ length: 20 }, () => update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: '999999' }] })));
    const codes = answers.map((a) => a.userErrors[0].code);
    expect(codes.filter((c) => c === 'OTP_INVALID')).toHaveLength(4);
    expect(codes.filter((c) => c === 'OTP_LOCKED')).toHaveLength(16);
    expect((await t.sql('SELECT failures FROM otp_rule_validation_failures WHERE rule_id = $1', [rule.id]))[0].failures).toBe(5);
    // one counter: the rule's count locked the rule and killed the OTP; the OTP's own attempts are not counted as well
    expect((await t.sql('SELECT status, attempts FROM otp_requests WHERE rule_id = $1', [rule.id]))[0]).toEqual({ status: 'MAX_ATTEMPTS_REACHED', attempts: 0 });
  });

  test('two concurrent saves carrying one OTP: exactly one succeeds', async () => {
    // HAS_CHANGED: the save that runs second still enters the guarded state (a state rule would not match it again)
    const rule = await createRule({ ...deactivation(), conditions: [{ match: 'ALL', conditions: [{ field: 'title', operator: 'HAS_CHANGED' }] }] });
    const { id } = await contact();
    await sendRuleOtp(rule.id, id);
    const results = await Promise.all(['VP Sales', 'VP Ops'].map((title) => update(id, { title }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] })));
    expect(results.filter((r) => r.record).length).toBe(1);
    expect(results.filter((r) => r.userErrors[0]?.code === 'OTP_INVALID').length).toBe(1);
  });

  test('an OTP bound to the rule but sent to another recipient through sendOtp does not count', async () => {
    const rule = await createRule(deactivation());
    const { id } = await contact();
    const other = await t.gql(`mutation($input: SendOtpInput!) { sendOtp(input: $input) { otpRequest { id } userErrors { message } } }`, {
      input: { mobileNo: '9000000001', channels: ['SMS'], source: `otp_rule_${rule.id}`, type: 'simple_otp', otpCode: '1234', ruleId: rule.id, recordId: id },
    });
    expect(other.body.data.sendOtp.userErrors).toEqual([]);
    const refused = await update(id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: '1234' }] });
    expect(refused.userErrors.map((e: { code: string }) => e.code)).toEqual(['OTP_INVALID']);
  });

  test('sendRuleOtp refuses unknown rules and records, and READONLY users', async () => {
    const rule = await createRule(deactivation());
    const { id } = await contact();
    expect((await sendRuleOtp(999999, id)).userErrors.map((e: { code: string }) => e.code)).toEqual(['NOT_FOUND']);
    expect((await sendRuleOtp(rule.id, '00000000-0000-4000-8000-00000000dead')).userErrors.map((e: { code: string }) => e.code)).toEqual(['NOT_FOUND']);
    const readonly = await t.keyFor('READONLY');
    const res = await t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { userErrors { code } } }', { r: rule.id, id }, { key: readonly.key });
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
