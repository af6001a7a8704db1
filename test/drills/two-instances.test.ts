import { randomBytes } from 'node:crypto';
import { createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM } from '../connections/helpers';
import { freshMobile, restPost } from '../otp/otp-helpers';

/**
 * Two server instances on one database. (Two separate processes are driven in test/otp/otp-two-processes.test.ts:
 * shared limits and an OTP sent through one verified through the other; rules across instances in test/app/instances.test.ts.)
 */
const PARALLEL = 50;
const SECRET_KEY = randomBytes(32).toString('hex');
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  const env = { SECRET_KEY, OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '3' };
  a = await startTestServer('two_instances', env);
  b = await startTestServer('two_instances_b', env, a);
});
afterAll(async () => {
  await b.close();
  await a.close();
});

test('per-recipient send limits are shared: alternating instances, the 4th send is RATE_LIMITED', async () => {
  const body = { mobile_no: freshMobile(), channel: 'sms', source: 'two', type: 'simple_otp' };
  const statuses = [];
  for (const t of [a, b, a, b]) statuses.push((await restPost(t, '/api/send-otp', body)).status);
  expect(statuses).toEqual([200, 200, 200, 429]);
});

test(`an OTP sent through one instance verifies through the other; ${PARALLEL} parallel verifies split across both: exactly one succeeds`, async () => {
  const sent = await restPost(a, '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'two', type: 'simple_otp', otp_code: '246810' });
  const id = sent.body.data.otp_request_id;
  const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => restPost(i % 2 ? b : a, '/api/verify-otp', { otp_request_id: id, code: '246810' })));
  expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
  expect(answers.filter((r) => r.status === 400)).toHaveLength(PARALLEL - 1);
  expect((await a.sql('SELECT status FROM otp_requests WHERE id = $1', [id]))[0].status).toBe('VERIFIED');
});

test(`${PARALLEL} parallel duplicate createConnection split across both instances give exactly one row`, async () => {
  const create = async (module: string, fields: Record<string, unknown>) => (await createRecord(a, module, fields)).id;
  const contact = await create('Contacts', { lastName: 'Twin' });
  const organization = await create('Organizations', { name: 'Twin Ltd' });
  const CREATE = 'mutation($input: CreateConnectionInput!) { createConnection(input: $input) { connection { id } userErrors { code } } }';
  const input = { typeId: SYSTEM.worksAt, sourceId: contact, targetId: organization };
  const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => (i % 2 ? b : a).gql(CREATE, { input })));
  const payloads = answers.map((r) => r.body.data.createConnection);
  expect(payloads.filter((p) => p.connection)).toHaveLength(1);
  expect(payloads.filter((p) => p.userErrors[0]?.code === 'DUPLICATE_CONNECTION')).toHaveLength(PARALLEL - 1);
  const rows = await b.sql('SELECT id FROM connections WHERE source_id = $1 AND target_id = $2', [contact, organization]);
  expect(rows).toHaveLength(1);
});
