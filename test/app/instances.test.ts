import { createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { until } from '../support/poll';

let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startTestServer('instances');
  b = await startTestServer('instances', {}, a);
});
afterAll(async () => {
  await b.close();
  await a.close();
});

test('a key revoked through one instance stops working on the other at once, though the other had it cached', async () => {
  const { key, userId } = await a.keyFor('USER');
  expect((await b.gql('{ me { id } }', {}, { key })).body.data.me.id).toBe(userId); // now cached by b
  const [{ id }] = await a.sql('SELECT id FROM api_keys WHERE user_id = $1', [userId]);
  await a.gql('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } } }', { id });
  await until('the other instance to see the change', async () => (await b.gql('{ me { id } }', {}, { key })).status === 401, 5000);
});

test('a role changed through one instance applies on the other', async () => {
  const { key, userId } = await a.keyFor('USER');
  expect((await b.gql('{ users { nodes { id } } }', {}, { key })).body.errors[0].extensions.code).toBe('FORBIDDEN');
  await a.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { user { role } } }', { id: userId });
  await until('the other instance to see the change', async () => !(await b.gql('{ users { nodes { id } } }', {}, { key })).body.errors, 5000);
});

test('an OTP rule created through one instance is in the other instance\'s rule cache without a restart', async () => {
  const created = await a.gql(`mutation { createOtpRule(input: { name: "Cross instance", module: "Cases", channels: [EMAIL],
    conditions: [{ match: ALL, conditions: [{ field: "status", operator: HAS_CHANGED_TO, value: "Closed" }] }] }) { otpRule { id } userErrors { message } } }`);
  const id = created.body.data.createOtpRule.otpRule.id;
  await until('the other instance to see the change', async () => (await b.app.services.otpRules.cachedRules('Cases')).some((r) => r.id === id), 5000);
});

test('a rule created through one instance guards saves through the other', async () => {
  const record = await createRecord(b, 'Cases', { title: 'Guarded elsewhere', status: 'Open' });
  const created = await a.gql(`mutation { createOtpRule(input: { name: "Close case elsewhere", module: "Cases", channels: [EMAIL],
    conditions: [{ match: ALL, conditions: [{ field: "status", operator: HAS_CHANGED_TO, value: "Resolved" }] }] }) { otpRule { id } } }`);
  const ruleId = created.body.data.createOtpRule.otpRule.id;
  // Polling with saves would let an early one through (and then the transition no longer matches): wait for b's cache.
  await until('the other instance to load the rule', async () => (await b.app.services.otpRules.cachedRules('Cases')).some((r) => r.id === ruleId), 5000);
  const res = await b.gql('mutation($id: ID!) { updateRecord(id: $id, fields: { status: "Resolved" }) { record { id } userErrors { code } } }', { id: record.id });
  expect(res.body.data.updateRecord.userErrors.map((e: { code: string }) => e.code)).toEqual(['OTP_REQUIRED']);
  expect((await b.sql('SELECT fields FROM records WHERE id = $1', [record.id]))[0].fields.status).toBe('Open');
});
