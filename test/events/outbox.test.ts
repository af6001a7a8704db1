import { createOtpRule, createRecord } from '../support/api';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM } from '../connections/helpers';
import { CANCEL, freshMobile, SEND, VERIFY } from '../otp/otp-helpers';

/**
 * Domain events are written in the transaction of the change they describe: read straight from the outbox table,
 * with no webhook endpoint configured. Every payload is checked for codes and full recipients.
 */

const MOBILE = '+919812345670';
const CODE = '615243';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer('events_outbox', { OTP_TEST_RECIPIENTS: `${MOBILE}:${CODE}`, OTP_EXPIRY_SWEEP_MS: '100' });
});
afterAll(() => t?.close());

interface OutboxRow { id: string; type: string; subject: string; data: Record<string, any> }
const eventsOf = (subject: string) => t.sql<OutboxRow>('SELECT id, type, subject, data FROM event_outbox WHERE subject = $1 ORDER BY id', [subject]);
const count = async () => (await t.sql('SELECT count(*)::int AS n FROM event_outbox'))[0].n as number;

afterEach(async () => {
  const leaks = await t.sql(`SELECT type, data::text AS data FROM event_outbox WHERE data::text ~ $1`, [`${CODE}|${MOBILE.slice(1)}|code_?hash|sealed`]);
  expect(leaks).toEqual([]);
});

describe('a change that does not happen', () => {
  test('a send refused for bad input writes no event', async () => {
    const before = await count();
    const refused = await t.gql(SEND, { input: { mobileNo: '12', channels: ['SMS'], source: 'outbox', type: 'simple_otp', otpCodeLength: 3 } });
    expect(refused.body.data.sendOtp.userErrors.length).toBeGreaterThan(1);
    expect(await count()).toBe(before);
  });

  test('a wrong code and a cancel publish what happened, nothing more', async () => {
    const sent = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'outbox', type: 'simple_otp', otpCode: '9090' } });
    const id = sent.body.data.sendOtp.otpRequest.id;
    await t.gql(VERIFY, { input: { otpRequestId: id, code: '1111' } });
    await t.gql(CANCEL, { id });
    await t.gql(CANCEL, { id }); // already canceled: refused, no second event
    const events = await until('the delivery outcome', async () => {
      const rows = await eventsOf(`otp_request:${id}`);
      return rows.some((e) => e.type === 'otp.delivery.updated' && e.data.status !== 'QUEUED') && rows;
    }, 20_000);
    expect(events.filter((e) => e.type !== 'otp.delivery.updated').map((e) => e.type)).toEqual(['otp.sent', 'otp.failed_attempt', 'otp.canceled']);
    expect(events.find((e) => e.type === 'otp.failed_attempt')!.data).toEqual({ otpRequestId: id, attempts: 1, maxAttempts: 5, attemptsLeft: 4, locked: false });
    expect(events.find((e) => e.type === 'otp.canceled')!.data).toMatchObject({ reason: 'CANCELED_BY_USER' });
  });

  test('a pending OTP past its expiry is settled and announced once', async () => {
    const sent = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'outbox', type: 'simple_otp' } });
    const id = sent.body.data.sendOtp.otpRequest.id;
    await t.sql("UPDATE otp_requests SET expires_at = now() - interval '1 second' WHERE id = $1", [id]); // the scene: its 10 minutes are over
    await until('otp.expired', async () => (await eventsOf(`otp_request:${id}`)).some((e) => e.type === 'otp.expired'), 20_000);
    const expired = (await eventsOf(`otp_request:${id}`)).filter((e) => e.type === 'otp.expired');
    expect(expired).toHaveLength(1);
    expect(expired[0].data).toMatchObject({ otpRequestId: id, status: 'EXPIRED' });
  });
});

describe('a guarded save', () => {
  test('refused for want of an OTP publishes rule.otp_required though the save rolled back; with the OTP, otp.verified and rule.save_verified commit with it', async () => {
    const rule = await createOtpRule(t, {
      name: 'Outbox deactivation', module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
      conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
    });
    const contact = await createRecord(t, 'Contacts', { lastName: 'Outbox', mobile: MOBILE, contactStatus: 'Active' });
    const UPDATE = `mutation($id: ID!, $otp: [OtpInput!]) { updateRecord(id: $id, fields: { contactStatus: "Inactive" }, otp: $otp) { record { id } userErrors { code } } }`;
    const refused = await t.gql(UPDATE, { id: contact.id });
    expect(refused.body.data.updateRecord.userErrors.map((e: { code: string }) => e.code)).toEqual(['OTP_REQUIRED']);
    await until('rule.otp_required', async () => (await eventsOf(`record:${contact.id}`)).length === 1, 10_000);
    expect((await eventsOf(`record:${contact.id}`))[0]).toMatchObject({
      type: 'rule.otp_required', data: { ruleId: rule.id, recordId: contact.id, module: 'Contacts', reason: 'STATE', otpLive: false },
    });

    const sent = await t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { otpRequest { id } userErrors { code } } }', { r: rule.id, id: contact.id });
    const otpId = sent.body.data.sendRuleOtp.otpRequest.id;
    const wrong = await t.gql(UPDATE, { id: contact.id, otp: [{ rule: String(rule.id), code: '000000' }] });
    expect(wrong.body.data.updateRecord.userErrors[0].code).toBe('OTP_INVALID');
    const saved = await t.gql(UPDATE, { id: contact.id, otp: [{ rule: String(rule.id), code: CODE }] });
    expect(saved.body.data.updateRecord.userErrors).toEqual([]);
    expect((await eventsOf(`record:${contact.id}`)).map((e) => e.type)).toEqual(['rule.otp_required', 'rule.save_verified']);
    expect((await eventsOf(`otp_request:${otpId}`)).map((e) => e.type)).toEqual(['otp.sent', 'otp.verified']);
  });
});

describe('connections', () => {
  test('created, ended and deleted, ordered per connection and routed to both records', async () => {
    const ann = await createRecord(t, 'Contacts', { lastName: 'Ann' });
    const bob = await createRecord(t, 'Contacts', { lastName: 'Bob' });
    const made = await t.gql(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { connection { id } userErrors { code } } }`,
      { input: { typeId: SYSTEM.knows, sourceId: ann.id, targetId: bob.id } });
    const id = made.body.data.createConnection.connection.id;
    const duplicate = await t.gql(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { userErrors { code } } }`,
      { input: { typeId: SYSTEM.knows, sourceId: bob.id, targetId: ann.id } });
    expect(duplicate.body.data.createConnection.userErrors[0].code).toBe('DUPLICATE_CONNECTION');
    await t.gql('mutation($id: ID!) { updateConnection(id: $id, input: { endDate: "2026-01-31" }) { userErrors { code } } }', { id });
    await t.gql('mutation($id: ID!) { updateConnection(id: $id, input: { notes: "still ended" }) { userErrors { code } } }', { id });
    await t.gql('mutation($id: ID!) { deleteConnection(id: $id) { userErrors { code } } }', { id });
    const events = await eventsOf(`connection:${id}`);
    expect(events.map((e) => e.type)).toEqual(['connection.created', 'connection.ended', 'connection.deleted']);
    expect(events[1].data).toMatchObject({ connectionId: id, sourceId: ann.id, targetId: bob.id, endDate: '2026-01-31' });
  });
});
