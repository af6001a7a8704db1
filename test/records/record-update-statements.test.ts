import { withStatementTexts } from '../../src/db/pipelined-sql';
import { createOtpRule, createRecord, updateRecord } from '../support/api';
import { until } from '../support/poll';
import { StatementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Counts the round trips to Postgres while the server answers one `updateRecord` (see test/otp/otp-statements.test.ts
 * for how). A save that no guard or reference check needs the database for takes 2: the record read without a lock,
 * then one autocommit UPDATE that applies only if the record is still live at the version read. Every other save goes
 * through the locked transaction (START TRANSACTION, SELECT … FOR NO KEY UPDATE, …, COMMIT) as before.
 */
const MOBILE = '+919876543210';
const MOBILE_CODE = '482913';
let t: TestServer;
const counter = new StatementCounter(() => t);

beforeAll(async () => {
  t = await startTestServer('record_update_statements', {
    OTP_WORKER: 'false', WEBHOOKS_WORKER: 'false', OTP_TEST_RECIPIENTS: `${MOBILE}:${MOBILE_CODE}`, OTP_RULES_LIMIT: '2000',
  });
  counter.install();
});
afterAll(async () => {
  counter.uninstall();
  await t.close();
});

const LOCKED = /FOR NO KEY UPDATE/;
const texts = (statements: string[]) => statements.map(withStatementTexts);

const deal = (fields: Record<string, unknown> = {}) => createRecord(t, 'Deals', { name: `Counted ${Math.random()}`, stage: 'Proposal', amount: 10, ...fields });

describe('updateRecord: the plain save in 2 round trips', () => {
  test('no rule on the module: the read, then the UPDATE on the version read; no transaction, no row lock', async () => {
    const record = await deal();
    const { statements, result } = await counter.count(() => updateRecord(t, record.id, { amount: 20 }));
    expect(result.userErrors).toEqual([]);
    expect(result.record).toMatchObject({ version: 2, fields: { amount: 20, stage: 'Proposal' } });
    expect(statements).toHaveLength(2);
    const [read, write] = texts(statements);
    expect(read).toMatch(/SELECT \* FROM records WHERE id = \$1 AND records\.deleted_at IS NULL/);
    expect(read).not.toMatch(LOCKED);
    expect(write).toMatch(/UPDATE records SET .* WHERE id = \$1 AND version = \$2 AND records\.deleted_at IS NULL RETURNING \*/s);
    expect(`${read}\n${write}`).not.toMatch(/BEGIN|START TRANSACTION|COMMIT/);
  });

  test('with expectedVersion equal to the record\'s: still 2', async () => {
    const record = await deal();
    const { statements, result } = await counter.count(() => updateRecord(t, record.id, { amount: 30 }, { expectedVersion: 1 }));
    expect(result.record).toMatchObject({ version: 2 });
    expect(statements).toHaveLength(2);
  });

  test('1,000 active rules on the module that the save does not enter: still 2', async () => {
    await t.sql(
      `INSERT INTO otp_rules (name, sanitized_key, module, conditions, channels)
       SELECT 'Never ' || n, 'never' || n, 'Deals',
              jsonb_build_array(jsonb_build_object('match', 'ALL', 'conditions', jsonb_build_array(
                jsonb_build_object('field', 'stage', 'operator', 'HAS_CHANGED_TO', 'value', 'Negotiation'),
                jsonb_build_object('field', 'probability', 'operator', 'LESS_THAN', 'value', n)))),
              '{EMAIL}'
         FROM generate_series(1, 1000) AS n`);
    await t.sql(`SELECT pg_notify('countersign_otp_rules_changed', '')`);
    // the server holds the rules once a save entering the last one's state (and no other's) is refused by it
    const probe = await deal({ probability: 999.5 });
    await until('the 1,000 rules to be loaded', async () => {
      const refused = await updateRecord(t, probe.id, { stage: 'Negotiation' });
      return refused.userErrors.length === 1 && refused.userErrors[0].details?.ruleName === 'Never 1000';
    }, 10_000);

    const record = await deal();
    const { statements, result } = await counter.count(() => updateRecord(t, record.id, { amount: 40, stage: 'Qualification' }));
    expect(result.userErrors).toEqual([]);
    expect(statements).toHaveLength(2);
    expect(texts(statements)[1]).toMatch(/AND version = \$2/);
    await t.sql(`UPDATE otp_rules SET active = false WHERE name LIKE 'Never %'`);
    await t.sql(`SELECT pg_notify('countersign_otp_rules_changed', '')`);
  });
});

describe('updateRecord: every save a guard or check needs the database for takes the locked transaction', () => {
  const deactivation = {
    module: 'Contacts', channels: ['SMS'], recipientField: 'mobile', name: 'Counted deactivation',
    conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
  };

  test('attacker: a save into a protected state without the OTP is refused on the locked path; with the rule\'s OTP it is saved there and the OTP consumed', async () => {
    const rule = await createOtpRule(t, deactivation);
    const contact = await createRecord(t, 'Contacts', { lastName: 'Counted', mobile: MOBILE, contactStatus: 'Active' });
    const refused = await counter.count(() => updateRecord(t, contact.id, { contactStatus: 'Inactive' }));
    expect(refused.result.userErrors.map((e) => e.code)).toEqual(['OTP_REQUIRED']);
    expect(texts(refused.statements).join('\n')).toMatch(/START TRANSACTION[\s\S]*FOR NO KEY UPDATE[\s\S]*ROLLBACK/);

    const sent = await t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { userErrors { code } } }', { r: rule.id, id: contact.id });
    expect(sent.body.data.sendRuleOtp.userErrors).toEqual([]);
    const saved = await counter.count(() => updateRecord(t, contact.id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] }));
    expect(saved.result.userErrors).toEqual([]);
    expect(saved.result.record).toMatchObject({ version: 2, fields: { contactStatus: 'Inactive' } });
    expect(texts(saved.statements).join('\n')).toMatch(/START TRANSACTION[\s\S]*FOR NO KEY UPDATE[\s\S]*UPDATE records SET fields[\s\S]*COMMIT/);
    const reused = await updateRecord(t, contact.id, { contactStatus: 'Active' });
    expect(reused.userErrors).toEqual([]); // leaving the state is not guarded
    const again = await updateRecord(t, contact.id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code: MOBILE_CODE }] });
    expect(again.userErrors.map((e) => e.code)).toEqual(['OTP_INVALID']); // consumed by the save
    await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id: rule.id });
  });

  test('a save of a closed record while a rule skips closed records: locked, and the state the rules checked is kept', async () => {
    const rule = await createOtpRule(t, { ...deactivation, name: 'Counted closed', module: 'Deals', channels: ['EMAIL'], recipientField: null,
      conditions: [{ match: 'ALL', conditions: [{ field: 'amount', operator: 'GREATER_THAN', value: 1000 }] }] });
    const record = await deal({ stage: 'Closed Won' });
    const { statements, result } = await counter.count(() => updateRecord(t, record.id, { amount: 5000 }));
    expect(result.userErrors).toEqual([]);
    expect(texts(statements).join('\n')).toMatch(LOCKED);
    expect(await t.sql('SELECT fields->>\'amount\' AS amount FROM otp_rule_checked_states WHERE record_id = $1', [record.id])).toEqual([{ amount: '10' }]);
    await t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id: rule.id });
  });

  test('a reference field: locked, and the reference is checked (another module\'s record is refused)', async () => {
    const record = await deal();
    const contact = await createRecord(t, 'Contacts', { lastName: 'Not an organization' });
    const { statements, result } = await counter.count(() => updateRecord(t, record.id, { organizationId: contact.id }));
    expect(result.userErrors.map((e) => e.code)).toEqual(['INVALID']);
    expect(texts(statements).join('\n')).toMatch(LOCKED);
    const organization = await createRecord(t, 'Organizations', { name: 'Counted Org' });
    const saved = await updateRecord(t, record.id, { organizationId: organization.id });
    expect(saved.record).toMatchObject({ version: 2, fields: { organizationId: organization.id } });
  });

  test('a stale expectedVersion, an invalid field, an unknown id: refused by the locked path, nothing written', async () => {
    const record = await deal();
    for (const [fields, options, code] of [
      [{ amount: 1 }, { expectedVersion: 7 }, 'CONFLICT'],
      [{ amount: 'lots' }, {}, 'INVALID'],
    ] as const) {
      const { statements, result } = await counter.count(() => updateRecord(t, record.id, fields, options));
      expect(result.userErrors.map((e) => e.code)).toEqual([code]);
      expect(texts(statements).join('\n')).toMatch(LOCKED);
    }
    const missing = await updateRecord(t, '7d6f1d7e-0000-4000-8000-000000000000', { amount: 1 });
    expect(missing.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(await t.sql('SELECT version, fields->>\'amount\' AS amount FROM records WHERE id = $1', [record.id])).toEqual([{ version: 1, amount: '10' }]);
  });
});
