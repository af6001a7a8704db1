import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/global-setup';
import { until } from '../support/poll';
import { spawnServer, type ServerProcess } from '../support/process';
import { startTestServer, type TestServer } from '../support/test-server';
import { createRecord } from '../support/api';
import { subscribe, subscriptionClient } from '../support/events';
import { SYSTEM } from '../connections/helpers';
import { freshMobile, SEND, VERIFY } from '../otp/otp-helpers';

/**
 * GraphQL subscriptions over graphql-ws on /graphql. Subscribers sit on server A (in this process, no delivery worker);
 * every change is made through server B, a second process on the same database: only Postgres LISTEN/NOTIFY links them.
 */

let a: TestServer;
let b: ServerProcess;
let bUrl: string;
const clients: Array<{ dispose(): void | Promise<void> }> = [];

beforeAll(async () => {
  a = await startTestServer('events_subscriptions', { OTP_WORKER: 'false', WEBHOOKS_WORKER: 'false' });
  const port = await freePort();
  bUrl = `http://127.0.0.1:${port}`;
  b = spawnServer({
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: a.databaseUrl, SECRET_KEY: a.secretKey, ADMIN_API_KEY: a.adminKey,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-sub-b-')), LOG_LEVEL: 'warn', DB_POOL_SIZE: '5',
  });
  await until('server B to be ready', () => fetch(`${bUrl}/readyz`).then((r) => r.ok, () => false), 60_000);
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  if (b && b.child.exitCode === null) {
    b.child.kill('SIGTERM');
    await b.exited;
  }
  await a?.close();
}, 30_000);

/** A GraphQL POST to server B as the admin. */
async function viaB(query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${bUrl}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${a.adminKey}` }, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json() as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function client(key: string | null) {
  const c = subscriptionClient(a.url, key);
  clients.push(c);
  return c;
}

const OTP_UPDATED = 'subscription($id: ID!) { otpRequestUpdated(id: $id) { id status attempts deliveries { channel status } } }';

describe('an OTP sent and verified through another server process', () => {
  test('a subscriber on this one sees the delivery SENT, then VERIFIED', async () => {
    const sent = await viaB(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'subscriptions', type: 'simple_otp', otpCode: '3141' } });
    const id: string = sent.sendOtp.otpRequest.id;
    const sub = subscribe<any>(client(a.adminKey), OTP_UPDATED, { id });
    const seen = () => sub.results.map((r) => `${r.data?.otpRequestUpdated.status}/${r.data?.otpRequestUpdated.deliveries[0]?.status}`);
    await until('the first answer (the OTP as it is now)', () => sub.results.length > 0, 20_000);
    await until('the SMS to be SENT (by B\'s worker)', () => seen().includes('PENDING/SENT'), 20_000);
    expect((await viaB(VERIFY, { input: { otpRequestId: id, code: '3141' } })).verifyOtp.verified).toBe(true);
    await until('VERIFIED', () => seen().includes('VERIFIED/SENT'), 20_000);
    expect(sub.results.every((r) => !r.errors)).toBe(true);
    expect(seen().indexOf('PENDING/SENT')).toBeLessThan(seen().indexOf('VERIFIED/SENT'));
    expect(seen()[seen().length - 1]).toBe('VERIFIED/SENT');
    sub.stop();
  });
});

describe('someone subscribing to what they may not see', () => {
  test('another user\'s OTP: FORBIDDEN, and the subscription ends', async () => {
    const sent = await viaB(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'subscriptions', type: 'simple_otp' } });
    const { key } = await a.keyFor('USER');
    const sub = subscribe<any>(client(key), OTP_UPDATED, { id: sent.sendOtp.otpRequest.id });
    expect(await sub.ended).toBeNull(); // completed by the server
    expect(sub.results).toEqual([expect.objectContaining({ errors: [expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })] })]);
  });

  test('an id that names nothing gets the same answer', async () => {
    const sub = subscribe<any>(client(a.adminKey), OTP_UPDATED, { id: '00000000-0000-4000-8000-000000000000' });
    expect(await sub.ended).toBeNull();
    expect(sub.results[0].errors![0].extensions).toEqual({ code: 'FORBIDDEN' });
  });

  test('no key, or a wrong one: the connection is closed with 4403', async () => {
    for (const key of [null, 'cs_not_a_real_key_000000000000000000000000']) {
      const sub = subscribe<any>(client(key), OTP_UPDATED, { id: '00000000-0000-4000-8000-000000000000' });
      const ended = await sub.ended as { code?: number };
      expect(ended.code).toBe(4403);
      expect(sub.results).toEqual([]);
    }
  });

  test('a query or mutation over the WebSocket is refused (they go over HTTP, with its limits)', async () => {
    const sub = subscribe<any>(client(a.adminKey), '{ webhookEventTypes }', {});
    const ended = await sub.ended;
    expect(JSON.stringify(ended)).toMatch(/Only subscriptions run over WebSocket/);
  });

  test('a subscription deeper than the depth limit is refused before it starts', async () => {
    const deep = 'subscription($id: ID!) { recordConnectionsChanged(recordId: $id) { connections { nodes { otherRecord { connections { nodes { otherRecord { connections { nodes { otherRecord { connections { nodes { otherRecord { id } } } } } } } } } } } } } }';
    const sub = subscribe<any>(client(a.adminKey), deep, { id: '00000000-0000-4000-8000-000000000000' });
    expect(JSON.stringify(await sub.ended)).toMatch(/depth/i);
  });
});

describe('a record\'s connections changed through another server process', () => {
  test('a subscriber on this one sees the new connection from the record\'s side', async () => {
    const ann = await createRecord(a, 'Contacts', { lastName: 'Ann' });
    const bob = await createRecord(a, 'Contacts', { lastName: 'Bob' });
    const sub = subscribe<any>(client(a.adminKey),
      'subscription($id: ID!) { recordConnectionsChanged(recordId: $id) { id connections { totalCount nodes { label otherRecord { id } } } } }', { id: bob.id });
    await until('the first answer', () => sub.results.length > 0, 20_000);
    expect(sub.results[0].data.recordConnectionsChanged.connections.totalCount).toBe(0);
    const made = await viaB(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { connection { id } userErrors { message } } }`,
      { input: { typeId: SYSTEM.knows, sourceId: ann.id, targetId: bob.id } });
    expect(made.createConnection.userErrors).toEqual([]);
    const latest = await until('the new connection', () => sub.results.find((r) => r.data?.recordConnectionsChanged.connections.totalCount === 1), 20_000);
    expect(latest.data.recordConnectionsChanged.connections.nodes).toEqual([{ label: 'knows', otherRecord: { id: ann.id } }]);
    await viaB('mutation($id: ID!) { deleteConnection(id: $id) { userErrors { message } } }', { id: made.createConnection.connection.id });
    await until('the deletion', () => sub.results.length >= 3 && sub.results[sub.results.length - 1].data?.recordConnectionsChanged.connections.totalCount === 0, 20_000);
    sub.stop();
  });
});
