import { RuleOtpWorld, codeIn, deactivation } from '../otp-rules/rule-otp-helpers';
import { RESEND, SEND } from '../otp/otp-helpers';
import { ADMIN_LISTS, gqlData, inPrefix, sendTo, verify } from './fraud-helpers';

/**
 * The conversion summary an admin watches equals what happened: every door (REST, GraphQL, rule sends, guarded saves)
 * counted once, refused sends counted as blocked, monitored sends flagged. A server and database of its own.
 */

const w = new RuleOtpWorld();
let from: string;
beforeAll(async () => {
  await w.start('fraud_summary', { FRAUD_GEO_MONITOR: 'FR', OTP_RESEND_COOLDOWN_SECONDS: '0', WHATSAPP_PROVIDER: 'log' });
  from = new Date(Date.now() - 1000).toISOString();
});
afterAll(() => w.stop());

type Row = { country: string | null; channel: string; source: string; ruleId: number | null; sends: number; verified: number; blocked: number; monitored: number; conversionRate: number | null };

test("the summary's figures equal what the test did, across REST, GraphQL, rule sends and guarded saves", async () => {
  const t = w.t;
  // REST: three SMS to India, two verified, one of them resent once
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const sent = await sendTo(t, inPrefix('+91987660'), { source: 'signup', otp_code: '7391' });
    expect(sent.status).toBe(200);
    ids.push(sent.body.data.otp_request_id);
  }
  expect((await t.gql(RESEND, { id: ids[2] })).body.data.resendOtp.userErrors).toEqual([]);
  for (const id of ids.slice(0, 2)) expect((await verify(t, id, '7391')).status).toBe(200);
  // GraphQL: two WhatsApp messages to France (monitored), none verified; one premium-rate number refused
  for (const national of ['612345678', '612345679']) {
    const res = await t.gql(SEND, { input: { mobileNo: national, countryCode: '33', channels: ['WHATSAPP'], source: 'login', type: 'simple_otp' } });
    expect(res.body.data.sendOtp.userErrors).toEqual([]);
  }
  expect((await sendTo(t, '+449090901234', { source: 'login' })).status).toBe(422);
  // a rule OTP sent and consumed by the guarded save; another rule send to a premium-rate number refused
  const rule = await w.createRule(deactivation());
  const contact = await w.contact();
  const sent = await w.sendRuleOtp(rule.id, contact.id);
  expect(sent.userErrors).toEqual([]);
  const code = codeIn(await w.smsOf(sent.otpRequest.id, contact.e164));
  expect((await w.update(contact.id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code }] })).userErrors).toEqual([]);
  const premium = await w.createRecord('Contacts', { lastName: 'Premium', mobile: '+449090901237', contactStatus: 'Active' });
  const refused = await w.sendRuleOtp(rule.id, premium.id);
  expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'NUMBER_NOT_ALLOWED' })]);
  const [{ source: ruleSource }] = await t.sql('SELECT source FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);

  const expected: Row[] = [
    { country: 'IN', channel: 'SMS', source: 'signup', ruleId: null, sends: 4, verified: 2, blocked: 0, monitored: 0, conversionRate: 0.5 },
    { country: 'FR', channel: 'WHATSAPP', source: 'login', ruleId: null, sends: 2, verified: 0, blocked: 0, monitored: 2, conversionRate: 0 },
    { country: 'IN', channel: 'SMS', source: ruleSource, ruleId: rule.id, sends: 1, verified: 1, blocked: 0, monitored: 0, conversionRate: 1 },
    { country: 'GB', channel: 'SMS', source: 'login', ruleId: null, sends: 0, verified: 0, blocked: 1, monitored: 0, conversionRate: null },
    { country: 'GB', channel: 'SMS', source: ruleSource, ruleId: rule.id, sends: 0, verified: 0, blocked: 1, monitored: 0, conversionRate: null },
  ];
  const to = new Date(Date.now() + 1000).toISOString();
  const whole = (await gqlData(t, ADMIN_LISTS.summary, { from, to, first: 100 })).conversionSummary;
  expect(whole.totalCount).toBe(expected.length);
  expect(whole.nodes).toEqual(expect.arrayContaining(expected));
  expect(whole.nodes.map((r: Row) => r.sends)).toEqual([4, 2, 1, 0, 0]); // busiest first

  // pages of two walk the same rows
  const walked: Row[] = [];
  let after: string | null = null;
  for (let page = 0; page < 5; page += 1) {
    const part: any = (await gqlData(t, ADMIN_LISTS.summary, { from, to, first: 2, after })).conversionSummary;
    walked.push(...part.nodes);
    if (!part.pageInfo.hasNextPage) break;
    after = part.pageInfo.endCursor;
  }
  expect(walked).toEqual(whole.nodes);
  // a range before any of it is empty; a made-up cursor is a client error
  const before = (await gqlData(t, ADMIN_LISTS.summary, { from: '2020-01-01T00:00:00Z', to: from })).conversionSummary;
  expect(before).toEqual(expect.objectContaining({ totalCount: 0, nodes: [] }));
  const badCursor = await t.gql(ADMIN_LISTS.summary, { after: 'bm90LWEtY3Vyc29y' });
  expect(badCursor.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  const backwards = await t.gql(ADMIN_LISTS.summary, { from: to, to: from });
  expect(backwards.body.errors[0]).toEqual(expect.objectContaining({ message: '`from` must be before `to`.' }));
});
