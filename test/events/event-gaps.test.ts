import { Client } from 'pg';
import { createOtpRule, createRecord } from '../support/api';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';
import { SEND, VERIFY, freshMobile, waitForRows } from '../otp/otp-helpers';
import { connect, contact, createType, organization, UPDATE_TYPE, USER_ERRORS } from '../connections/helpers';
import { subscribe, subscriptionClient } from '../support/events';

/**
 * The changes that used to happen without their domain event (docs/events.md): each now writes it, exactly once, with
 * the change or (an expiry settled by a verify or a send) by the expiry sweep that follows it.
 */

let t: TestServer;
let second: TestServer | null = null;

beforeAll(async () => {
  t = await startTestServer('event_gaps', { OTP_EXPIRY_SWEEP_MS: '100', OTP_SEND_LIMIT_PER_KEY_MINUTE: '500', OTP_PROVIDER_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

interface OutboxRow { id: string; type: string; subject: string; data: Record<string, any> }
const eventsOf = (subject: string) => t.sql<OutboxRow>('SELECT id, type, subject, data FROM event_outbox WHERE subject = $1 ORDER BY id', [subject]);

async function send(mobile: string, source = 'event_gaps'): Promise<string> {
  const res = await t.gql(SEND, { input: { mobileNo: mobile, channels: ['SMS'], source, type: 'simple_otp' } });
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  return res.body.data.sendOtp.otpRequest.id;
}

/**
 * The scene for "a verify or a send meets an expired OTP before the sweep does": a second session holds the requests
 * with FOR KEY SHARE, which the sweep's FOR UPDATE SKIP LOCKED skips but a verify's or a send's UPDATE does not wait
 * for; their 10 minutes are then over. `release` lets the sweep see them again.
 */
async function expiredOutOfSweepsReach(ids: string[]): Promise<{ release(): Promise<void> }> {
  const holder = new Client({ connectionString: t.databaseUrl });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT id FROM otp_requests WHERE id = ANY($1::uuid[]) FOR KEY SHARE', [ids]);
  await t.sql("UPDATE otp_requests SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])", [ids]);
  return {
    async release() {
      await holder.query('COMMIT');
      await holder.end();
    },
  };
}

describe('attacker: an expired code used before the sweep leaves no otp.expired for the CRM', () => {
  test('a verify of an expired OTP settles it; the sweep then publishes exactly one otp.expired, built like every other', async () => {
    const mobile = freshMobile();
    const id = await send(mobile);
    const scene = await expiredOutOfSweepsReach([id]);
    try {
      const verified = await t.gql(VERIFY, { input: { otpRequestId: id, code: '000000' } });
      expect(verified.body.data.verifyOtp.verified).toBe(false);
      expect(verified.body.data.verifyOtp.userErrors[0].code).toBe('OTP_EXPIRED');
      expect(await t.sql('SELECT status FROM otp_requests WHERE id = $1', [id])).toEqual([{ status: 'EXPIRED' }]); // settled by the verify
    } finally {
      await scene.release();
    }
    await waitForRows(t, 'SELECT expiry_unannounced FROM otp_requests WHERE id = $1', [id], (rows) => rows[0]?.expiry_unannounced === false);
    const expired = (await eventsOf(`otp_request:${id}`)).filter((e) => e.type === 'otp.expired');
    expect(expired).toHaveLength(1);
    expect(expired[0].data).toMatchObject({ otpRequestId: id, status: 'EXPIRED', mobile: expect.stringMatching(/\*/), attempts: 0 });
    expect(JSON.stringify(expired[0].data)).not.toContain(mobile.slice(-6));
  });

  test('a new send that replaces an expired live OTP: exactly one otp.expired for the old one, and no otp.canceled', async () => {
    const mobile = freshMobile();
    const old = await send(mobile);
    const scene = await expiredOutOfSweepsReach([old]);
    let next = '';
    try {
      next = await send(mobile); // the pipelined send settles the old one in its own message
      expect(await t.sql('SELECT status, expiry_unannounced FROM otp_requests WHERE id = $1', [old])).toEqual([{ status: 'EXPIRED', expiry_unannounced: true }]);
    } finally {
      await scene.release();
    }
    await waitForRows(t, 'SELECT expiry_unannounced FROM otp_requests WHERE id = $1', [old], (rows) => rows[0]?.expiry_unannounced === false);
    const types = (await eventsOf(`otp_request:${old}`)).map((e) => e.type).filter((type) => type !== 'otp.delivery.updated');
    expect(types).toEqual(['otp.sent', 'otp.expired']);
    expect((await eventsOf(`otp_request:${next}`)).filter((e) => e.type === 'otp.expired')).toEqual([]);
  });

  test('a new rule OTP (the interactive send) that replaces an expired one: exactly one otp.expired for the old one', async () => {
    const rule = await createOtpRule(t, {
      name: 'Gaps rule', module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
      conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
    });
    const record = await createRecord(t, 'Contacts', { lastName: 'Gaps', mobile: `+9198${String(Date.now()).slice(-8)}`, contactStatus: 'Active' });
    const SEND_RULE = 'mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { otpRequest { id } userErrors { code } } }';
    const first = await t.gql(SEND_RULE, { r: rule.id, id: record.id });
    const old = first.body.data.sendRuleOtp.otpRequest.id;
    const scene = await expiredOutOfSweepsReach([old]);
    try {
      const next = await t.gql(SEND_RULE, { r: rule.id, id: record.id });
      expect(next.body.data.sendRuleOtp.userErrors).toEqual([]);
      expect(await t.sql('SELECT status, expiry_unannounced FROM otp_requests WHERE id = $1', [old])).toEqual([{ status: 'EXPIRED', expiry_unannounced: true }]);
    } finally {
      await scene.release();
    }
    await waitForRows(t, 'SELECT expiry_unannounced FROM otp_requests WHERE id = $1', [old], (rows) => rows[0]?.expiry_unannounced === false);
    const expired = (await eventsOf(`otp_request:${old}`)).filter((e) => e.type === 'otp.expired');
    expect(expired.map((e) => e.data)).toEqual([expect.objectContaining({ otpRequestId: old, status: 'EXPIRED', ruleId: rule.id, recordId: record.id })]);
  });

  test('two instances sweeping at once: still one otp.expired per settled OTP', async () => {
    second = await startTestServer('event_gaps_second', { OTP_EXPIRY_SWEEP_MS: '100' }, t);
    const ids = await Promise.all(Array.from({ length: 12 }, () => send(freshMobile(), 'event_gaps_two')));
    const scene = await expiredOutOfSweepsReach(ids);
    try {
      const answers = await Promise.all(ids.map((id) => t.gql(VERIFY, { input: { otpRequestId: id, code: '000000' } })));
      expect(answers.map((a) => a.body.data.verifyOtp.userErrors[0].code)).toEqual(ids.map(() => 'OTP_EXPIRED'));
    } finally {
      await scene.release();
    }
    await until('every expiry announced', async () => {
      const [{ n }] = await t.sql('SELECT count(*)::int AS n FROM otp_requests WHERE id = ANY($1::uuid[]) AND expiry_unannounced', [ids]);
      return n === 0;
    }, 20_000);
    const rows = await t.sql<{ subject: string; n: number }>(
      `SELECT subject, count(*)::int AS n FROM event_outbox WHERE type = 'otp.expired' AND subject = ANY($1::text[]) GROUP BY subject`,
      [ids.map((id) => `otp_request:${id}`)]);
    expect(rows.map((r) => r.n)).toEqual(ids.map(() => 1));
    await second.close();
    second = null;
  });
});

describe('attacker: a connection type policy ends or deletes connections behind the CRM\'s back', () => {
  const DELETE_TYPE = `mutation($id: ID!, $policy: ConnectionPolicy) { deleteConnectionType(id: $id, policy: $policy) { affectedConnectionIds ${USER_ERRORS} } }`;
  const REQUIRED_ROLE = { properties: [{ key: 'role', label: 'Role', type: 'TEXT', required: true }] };

  /** A custom type with `n` connections from one contact, none carrying the (optional) role. */
  async function typeWithConnections(name: string, n: number) {
    const { connectionType } = await createType(t, { name, inverseName: `${name} of`, sourceModules: ['Contacts'], targetModules: ['Organizations'],
      properties: [{ key: 'role', label: 'Role', type: 'TEXT' }] });
    const person = await contact(t, `${name} person`);
    const connections: Array<{ id: string }> = [];
    for (let i = 0; i < n; i += 1) {
      const org = await organization(t, `${name} org ${i}`);
      connections.push((await connect(t, { typeId: connectionType.id, sourceId: person.id, targetId: org.id })).connection);
    }
    return { typeId: connectionType.id as string, person, ids: connections.map((c) => c.id) };
  }

  const connectionEvents = async (ids: string[]) => t.sql<OutboxRow>(
    `SELECT id, type, subject, data FROM event_outbox WHERE subject = ANY($1::text[]) AND type <> 'connection.created' ORDER BY id`,
    [ids.map((id) => `connection:${id}`)]);

  test('policy END on 3 misfits: 3 connection.ended with the new end date, and the record\'s subscriber hears it', async () => {
    const { typeId, person, ids } = await typeWithConnections('gap ending', 3);
    const client = subscriptionClient(t.url, t.adminKey);
    const sub = subscribe<any>(client, 'subscription($id: ID!) { recordConnectionsChanged(recordId: $id) { id connections { totalCount } } }', { id: person.id });
    try {
      await until('the first answer', () => sub.results.length > 0, 20_000);
      const res = await t.gql(UPDATE_TYPE, { id: typeId, input: REQUIRED_ROLE, policy: 'END' });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.updateConnectionType).toMatchObject({ affectedConnectionIds: ids, userErrors: [] });
      const events = await connectionEvents(ids);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      expect(events.map((e) => [e.type, e.data.connectionId, e.data.endDate])).toEqual(ids.map((id) => ['connection.ended', id, yesterday]));
      expect(events[0].data).toMatchObject({ typeId, sourceId: person.id, startDate: null });
      await until('the record\'s subscriber hears the ended connections', () => sub.results.length >= 2, 20_000);
      expect(sub.results.every((r) => !r.errors)).toBe(true);
    } finally {
      sub.stop();
      await client.dispose();
    }
  });

  test('policy DELETE on an update, and deleteConnectionType with DELETE: one connection.deleted per connection', async () => {
    const updated = await typeWithConnections('gap deleting', 2);
    const res = await t.gql(UPDATE_TYPE, { id: updated.typeId, input: REQUIRED_ROLE, policy: 'DELETE' });
    expect(res.body.data.updateConnectionType).toMatchObject({ affectedConnectionIds: updated.ids, userErrors: [] });
    expect((await connectionEvents(updated.ids)).map((e) => [e.type, e.data.connectionId])).toEqual(updated.ids.map((id) => ['connection.deleted', id]));

    const deleted = await typeWithConnections('gap deleted type', 3);
    const gone = await t.gql(DELETE_TYPE, { id: deleted.typeId, policy: 'DELETE' });
    expect(gone.body.data.deleteConnectionType).toEqual({ affectedConnectionIds: deleted.ids, userErrors: [] });
    const events = await connectionEvents(deleted.ids);
    expect(events.map((e) => [e.type, e.data.connectionId])).toEqual(deleted.ids.map((id) => ['connection.deleted', id]));
    expect(events[0].data).toMatchObject({ typeId: deleted.typeId, sourceId: deleted.person.id, endDate: null });
  });

  test('an integrity repair: END and DELETE publish connection.ended / connection.deleted; a dry run and IGNORE publish nothing', async () => {
    const REPAIR = `mutation($actions: [RepairActionInput!]!, $dryRun: Boolean) { repairConnections(actions: $actions, dryRun: $dryRun) { appliedCount userErrors { code } } }`;
    const { typeId, ids } = await typeWithConnections('gap repaired', 3);
    await t.gql(UPDATE_TYPE, { id: typeId, input: REQUIRED_ROLE, policy: 'IGNORE' });
    const actions = [
      { connectionId: ids[0], kind: 'INVALID_PROPERTIES', action: 'END' },
      { connectionId: ids[1], kind: 'INVALID_PROPERTIES', action: 'DELETE' },
      { connectionId: ids[2], kind: 'INVALID_PROPERTIES', action: 'IGNORE' },
    ];
    const dry = await t.gql(REPAIR, { actions, dryRun: true });
    expect(dry.body.data.repairConnections).toEqual({ appliedCount: 0, userErrors: [] });
    expect(await connectionEvents(ids)).toEqual([]);
    const done = await t.gql(REPAIR, { actions });
    expect(done.body.data.repairConnections).toEqual({ appliedCount: 3, userErrors: [] });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect((await connectionEvents(ids)).map((e) => [e.type, e.data.connectionId, e.data.endDate]))
      .toEqual([['connection.ended', ids[0], yesterday], ['connection.deleted', ids[1], null]]);
  });

  test('an admin hard-deletes a record: one connection.deleted per connection it had; a soft delete publishes none', async () => {
    const { person, ids } = await typeWithConnections('gap hard delete', 2);
    const soft = await t.gql(`mutation($id: ID!) { deleteRecord(id: $id) { ${USER_ERRORS} } }`, { id: person.id });
    expect(soft.body.data.deleteRecord.userErrors).toEqual([]);
    expect(await connectionEvents(ids)).toEqual([]);
    const hard = await t.gql(`mutation($id: ID!) { deleteRecord(id: $id, hard: true) { ${USER_ERRORS} } }`, { id: person.id });
    expect(hard.body.data.deleteRecord.userErrors).toEqual([]);
    const events = await connectionEvents(ids);
    expect(events.map((e) => [e.type, e.data.connectionId, e.data.sourceId])).toEqual(ids.map((id) => ['connection.deleted', id, person.id]));
    expect(await t.sql('SELECT id FROM connections WHERE id = ANY($1::uuid[])', [ids])).toEqual([]);
  });

  test('RESTRICT refused, on an update and on a delete: nothing changes and no event is written', async () => {
    const { typeId, ids } = await typeWithConnections('gap restricted', 2);
    const refused = await t.gql(UPDATE_TYPE, { id: typeId, input: REQUIRED_ROLE, policy: 'RESTRICT' });
    expect(refused.body.data.updateConnectionType.userErrors).toEqual([expect.objectContaining({ code: 'IN_USE', field: ['policy'] })]);
    const kept = await t.gql(DELETE_TYPE, { id: typeId, policy: 'RESTRICT' });
    expect(kept.body.data.deleteConnectionType.userErrors).toEqual([expect.objectContaining({ code: 'IN_USE', field: ['id'] })]);
    expect(await connectionEvents(ids)).toEqual([]);
    expect(await t.sql('SELECT count(*)::int AS n FROM connections WHERE id = ANY($1::uuid[]) AND end_date IS NULL', [ids])).toEqual([{ n: 2 }]);
  });
});

describe('attacker: a delivery settled by the crash sweep is never reported to the CRM', () => {
  test('a SENDING delivery older than the grace becomes FAILED/INTERRUPTED with one otp.delivery.updated saying so', async () => {
    const id = await send(freshMobile());
    const [delivery] = await waitForRows(t, 'SELECT id, status FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.status === 'SENT');
    // the scene: a process claimed the delivery and died during the provider call, an hour ago
    await t.sql("UPDATE otp_deliveries SET status = 'SENDING', provider_message_id = NULL, updated_at = now() - interval '1 hour' WHERE id = $1", [delivery.id]);
    await waitForRows(t, 'SELECT status FROM otp_deliveries WHERE id = $1', [delivery.id], (rows) => rows[0]?.status === 'FAILED');
    const updates = (await eventsOf(`otp_request:${id}`)).filter((e) => e.type === 'otp.delivery.updated' && e.data.status === 'FAILED');
    expect(updates.map((e) => e.data)).toEqual([{
      otpRequestId: id, deliveryId: delivery.id, channel: 'SMS', status: 'FAILED', provider: expect.any(String), providerMessageId: null,
      providerStatus: null, errorCategory: 'INTERRUPTED', attempts: 2,
    }]);
  });
});
