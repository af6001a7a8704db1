import { listAll, listPage } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_rules_admin', { OTP_RULES_LIMIT: '6' }); });
afterAll(() => t.close());

const CREATE = `mutation($input: OtpRuleInput!) {
  createOtpRule(input: $input) {
    otpRule { id name sanitizedName module active applicableProfiles conditions { match conditions { field operator value } } channels recipientField acceptedKeys codeLength }
    userErrors { field message code }
  }
}`;
const closeDeal = (name: string, extra: Record<string, unknown> = {}) => ({
  name, module: 'Deals', channels: ['EMAIL'], recipientField: null,
  conditions: [{ match: 'ALL', conditions: [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }] }],
  ...extra,
});

describe('OTP rules administration: successful cases', () => {
  test('creates a rule with an integer id, its sanitised name and every accepted key', async () => {
    const res = await t.gql(CREATE, { input: closeDeal('Test Rule 1 & Test 2 @ XYZ', { channels: ['EMAIL', 'SMS'] }) });
    const { otpRule, userErrors } = res.body.data.createOtpRule;
    expect(userErrors).toEqual([]);
    expect(Number.isInteger(otpRule.id)).toBe(true);
    expect(otpRule).toMatchObject({ name: 'Test Rule 1 & Test 2 @ XYZ', sanitizedName: 'TestRule1Test2XYZ', module: 'Deals', active: true, applicableProfiles: [], codeLength: 6 });
    expect(otpRule.acceptedKeys).toEqual(expect.arrayContaining([`fields.OTPRULES_OTP_${otpRule.id}`, 'fields.OTPRULES_OTP_TestRule1Test2XYZ', `header OTPRULES-OTP-${otpRule.id}`, 'header OTPRULES-OTP-TestRule1Test2XYZ']));

    // The Vtiger example: a later name that sanitises to the same key, in any case, is refused and writes nothing.
    const before = await t.sql('SELECT count(*)::int AS n FROM otp_rules');
    const clash = await t.gql(CREATE, { input: closeDeal('test-rule-1 test 2 xyz') });
    expect(clash.body.data.createOtpRule.userErrors).toEqual([expect.objectContaining({ field: ['name'], code: 'TAKEN' })]);
    expect(clash.body.data.createOtpRule.userErrors[0].message).toContain('TestRule1Test2XYZ');
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_rules')).toEqual(before);
  });

  test('lists by module and state, reads one, updates and deletes', async () => {
    const created = (await t.gql(CREATE, { input: closeDeal('Invoice paid', { module: 'Invoices', channels: ['EMAIL'], conditions: [{ match: 'ANY', conditions: [{ field: 'status', operator: 'EQUALS', value: 'Paid' }, { field: 'amount', operator: 'GREATER_THAN', value: 1000 }] }] }) })).body.data.createOtpRule.otpRule;
    expect(await listAll(t, 'otpRules', 'id name', { module: 'Invoices', active: true })).toEqual([{ id: created.id, name: 'Invoice paid' }]);
    const updated = await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false, applicableProfiles: ["Sales"] }) { otpRule { active applicableProfiles name } userErrors { code } } }', { id: created.id });
    expect(updated.body.data.updateOtpRule).toEqual({ otpRule: { active: false, applicableProfiles: ['Sales'], name: 'Invoice paid' }, userErrors: [] });
    expect(await listAll(t, 'otpRules', 'id', { module: 'Invoices', active: true })).toEqual([]);
    const deleted = await t.gql('mutation($id: Int!) { deleteOtpRule(id: $id) { deletedId userErrors { code } } }', { id: created.id });
    expect(deleted.body.data.deleteOtpRule).toEqual({ deletedId: String(created.id), userErrors: [] });
    expect((await t.gql('query($id: Int!) { otpRule(id: $id) { id } }', { id: created.id })).body.data.otpRule).toBeNull();
  });
});

describe('OTP rules administration: failing cases', () => {
  test('renaming onto the key of another rule is TAKEN', async () => {
    const a = (await t.gql(CREATE, { input: closeDeal('Same Key !') })).body.data.createOtpRule.otpRule;
    const b = (await t.gql(CREATE, { input: closeDeal('Other key') })).body.data.createOtpRule.otpRule;
    const res = await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { name: "same-KEY" }) { otpRule { id } userErrors { field code } } }', { id: b.id });
    expect(res.body.data.updateOtpRule.userErrors).toEqual([{ field: ['name'], code: 'TAKEN' }]);
    expect((await t.sql('SELECT name FROM otp_rules WHERE id = $1', [b.id]))[0].name).toBe('Other key');
    await t.gql('mutation($a: Int!, $b: Int!) { a: deleteOtpRule(id: $a) { deletedId } b: deleteOtpRule(id: $b) { deletedId } }', { a: a.id, b: b.id });
  });

  test.each([['@#!', 'letters or digits'], ['12 34', 'digits only'], ['', 'required']])('the name %p is refused (%s)', async (name) => {
    const res = await t.gql(CREATE, { input: closeDeal(name) });
    expect(res.body.data.createOtpRule.userErrors[0].field).toEqual(['name']);
  });

  test('conditions are checked against the module fields and operator value types, all at once', async () => {
    const res = await t.gql(CREATE, { input: closeDeal('Bad conditions', { conditions: [{ match: 'ALL', conditions: [
      { field: 'colour', operator: 'EQUALS', value: 'red' },
      { field: 'stage', operator: 'EQUALS', value: 'Won-ish' },
      { field: 'amount', operator: 'GREATER_THAN', value: 'lots' },
      { field: 'name', operator: 'IS_EMPTY', value: 'x' },
      { field: 'stage', operator: 'HAS_CHANGED_TO' },
      { field: 'name', operator: 'GREATER_THAN', value: 3 },
    ] }] }) });
    expect(res.body.data.createOtpRule.userErrors.map((e: { field: string[]; code: string }) => [e.field.join('.'), e.code])).toEqual([
      ['conditions.0.conditions.0.field', 'UNKNOWN_FIELD'],
      ['conditions.0.conditions.1.value', 'INVALID'],
      ['conditions.0.conditions.2.value', 'INVALID'],
      ['conditions.0.conditions.3.value', 'INVALID'],
      ['conditions.0.conditions.4.value', 'INVALID'],
      ['conditions.0.conditions.5.value', 'INVALID'],
    ]);
  });

  test('every other bad field is reported together', async () => {
    const res = await t.gql(CREATE, { input: { name: 'Everything wrong', module: 'Spaceships', channels: [], codeLength: 3, validForSeconds: 5, conditions: [] } });
    const fields = res.body.data.createOtpRule.userErrors.map((e: { field: string[] }) => e.field[0]);
    expect(fields).toEqual(expect.arrayContaining(['module', 'codeLength', 'validForSeconds', 'channels']));
  });

  test('a recipient field must be a phone or email field reachable by the channels', async () => {
    const res = await t.gql(CREATE, { input: closeDeal('Wrong recipient', { module: 'Contacts', channels: ['SMS'], recipientField: 'lastName', conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }] }) });
    expect(res.body.data.createOtpRule.userErrors).toEqual([expect.objectContaining({ field: ['recipientField'], code: 'INVALID' })]);
  });

  test('the number of rules is capped (LIMIT_REACHED), even under parallel creates', async () => {
    const [{ n }] = await t.sql('SELECT count(*)::int AS n FROM otp_rules');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.gql(CREATE, { input: closeDeal(`Parallel ${i}`) })));
    const limited = results.filter((r) => r.body.data.createOtpRule.userErrors[0]?.code === 'LIMIT_REACHED');
    expect(limited.length).toBe(8 - (6 - n));
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_rules')).toEqual([{ n: 6 }]);
  });

  test('an email template must exist and be an EMAIL template', async () => {
    const [{ id }] = (await listPage(t, 'otpRules', 'id', { first: 1 })).nodes;
    const UPDATE = 'mutation($id: Int!, $t: String) { updateOtpRule(id: $id, input: { emailTemplateId: $t }) { otpRule { emailTemplateId } userErrors { field code } } }';
    for (const [template, code] of [['no_such_template', 'NOT_FOUND'], ['otp_sms', 'INVALID']]) {
      expect((await t.gql(UPDATE, { id, t: template })).body.data.updateOtpRule).toEqual({ otpRule: null, userErrors: [{ field: ['emailTemplateId'], code }] });
    }
    expect((await t.gql(UPDATE, { id, t: 'otp_email' })).body.data.updateOtpRule).toEqual({ otpRule: { emailTemplateId: 'otp_email' }, userErrors: [] });
  });

  test('only admins manage rules', async () => {
    const { key } = await t.keyFor('USER');
    expect((await t.gql('{ otpRules { nodes { id } } }', {}, { key })).body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await t.gql(CREATE, { input: closeDeal('Sneaky') }, { key })).body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
