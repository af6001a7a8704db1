import { startTestServer, type TestServer } from '../support/test-server';

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

/** Polls until `check` holds; `ms` only bounds a failing test (LISTEN/NOTIFY makes it a few milliseconds). */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`not true within ${ms} ms`);
}

test('a key revoked through one instance stops working on the other at once, though the other had it cached', async () => {
  const { key, userId } = await a.keyFor('USER');
  expect((await b.gql('{ me { id } }', {}, { key })).body.data.me.id).toBe(userId); // now cached by b
  const [{ id }] = await a.sql('SELECT id FROM api_keys WHERE user_id = $1', [userId]);
  await a.gql('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } } }', { id });
  await within(5000, async () => (await b.gql('{ me { id } }', {}, { key })).status === 401);
});

test('a role changed through one instance applies on the other', async () => {
  const { key, userId } = await a.keyFor('USER');
  expect((await b.gql('{ users { id } }', {}, { key })).body.errors[0].extensions.code).toBe('FORBIDDEN');
  await a.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { user { role } } }', { id: userId });
  await within(5000, async () => !(await b.gql('{ users { id } }', {}, { key })).body.errors);
});

test('an OTP rule created through one instance is in the other instance\'s rule cache without a restart', async () => {
  const created = await a.gql(`mutation { createOtpRule(input: { name: "Cross instance", module: "Cases", channels: [EMAIL],
    conditions: [{ match: ALL, conditions: [{ field: "status", operator: HAS_CHANGED_TO, value: "Closed" }] }] }) { otpRule { id } userErrors { message } } }`);
  const id = created.body.data.createOtpRule.otpRule.id;
  await within(5000, async () => (await b.app.services.otpRules.cachedRules('Cases')).some((r) => r.id === id));
});

test('a rule created through one instance guards saves through the other', async () => {
  const record = (await b.gql('mutation { createRecord(module: "Cases", fields: { title: "Guarded elsewhere", status: "Open" }) { record { id } } }')).body.data.createRecord.record;
  await a.gql(`mutation { createOtpRule(input: { name: "Close case elsewhere", module: "Cases", channels: [EMAIL],
    conditions: [{ match: ALL, conditions: [{ field: "status", operator: HAS_CHANGED_TO, value: "Resolved" }] }] }) { otpRule { id } } }`);
  await within(5000, async () => {
    const res = await b.gql('mutation($id: ID!) { updateRecord(id: $id, fields: { status: "Resolved" }) { record { id } userErrors { code } } }', { id: record.id });
    return res.body.data.updateRecord.userErrors[0]?.code === 'OTP_REQUIRED';
  });
  expect((await b.sql('SELECT fields FROM records WHERE id = $1', [record.id]))[0].fields.status).toBe('Open');
});
