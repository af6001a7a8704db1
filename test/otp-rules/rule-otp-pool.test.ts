import { RuleOtpWorld, deactivation } from './rule-otp-helpers';

const w = new RuleOtpWorld();
beforeAll(() => w.start('rule_otp_pool', { DB_POOL_SIZE: '3' }));
afterAll(() => w.stop());

describe('attacker: floods guarded saves to jam the database pool', () => {
  test('50 parallel refused saves (autoSendOnMatch, pool of 3) all answer OTP_REQUIRED with the OTP sent, and an unrelated read answers meanwhile', async () => {
    const user = await w.t.keyFor('USER');
    const contacts = [];
    for (let i = 0; i < 50; i += 1) contacts.push(await w.contact());
    const rule = await w.createRule(deactivation({ autoSendOnMatch: true }));

    const saves = contacts.map((c) => w.t.gql(`mutation($id: ID!) { updateRecord(id: $id, fields: { contactStatus: "Inactive" }) { record { id } userErrors { code details } } }`,
      { id: c.id }, { key: user.key }));
    const read = w.t.gql('{ records(module: "Contacts", first: 5) { totalCount nodes { id } } }', {}, { key: user.key });
    const [answers, readAnswer] = await Promise.all([Promise.all(saves), read]);

    expect(readAnswer.body.errors).toBeUndefined();
    expect(readAnswer.body.data.records.totalCount).toBeGreaterThanOrEqual(50);
    for (const answer of answers) {
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.updateRecord.record).toBeNull();
      expect(answer.body.data.updateRecord.userErrors).toEqual([expect.objectContaining({ code: 'OTP_REQUIRED', details: expect.objectContaining({ ruleId: rule.id, otpSent: true }) })]);
    }
    expect((await w.t.sql("SELECT count(*)::int AS n FROM otp_requests WHERE rule_id = $1 AND status = 'PENDING'", [rule.id]))[0].n).toBe(50);
  });
});
