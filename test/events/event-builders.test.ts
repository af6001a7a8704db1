import { createOtpRule, createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { CANCEL, SEND, VERIFY, freshMobile, waitForRows } from '../otp/otp-helpers';
import type { DomainEvent } from '../../src/events/event-types';
import { toOtpRequestEntity, type OtpRequestEntity } from '../../src/otp/otp-request.entity';
import {
  maskedRecipients, otpCanceled, otpCanceledRowsSql, otpDeliveryUpdated, otpDeliveryUpdatedRowsSql, otpFailedAttempt, otpFailedAttemptRowsSql,
  otpSentEvents, otpSentRowsSql, otpVerified, otpVerifiedRowsSql,
} from '../../src/otp/otp.events';

/**
 * otp.events.ts builds each payload twice: in JS (for changes made in an interactive transaction) and as SQL (for
 * changes whose rows only the database knows, or that must stay one statement). For real rows made through the API,
 * both builders must give the same event, field by field, so a subscriber never sees two shapes of one event type.
 */

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('event_builders', { OTP_SEND_LIMIT_PER_KEY_MINUTE: '500' });
});
afterAll(() => t?.close());

interface SqlEvent { type: string; subject: string; data: Record<string, unknown>; ord: string }

/** The rows `rowsSql` yields, in `ord` order (what the outbox statement would insert), reading the CTE `src` = `source`. */
async function sqlEvents(source: string, rowsSql: string, params: unknown[]): Promise<Array<Omit<SqlEvent, 'ord'>>> {
  const rows = await t.sql<SqlEvent>(`WITH src AS (${source}) SELECT e.type, e.subject, e.data, e.ord::text FROM (${rowsSql}) AS e ORDER BY e.ord`, params);
  return rows.map(({ type, subject, data }) => ({ type, subject, data }));
}

/** A JS-built event as it is stored (dates as ISO strings); `topics` is routing, not payload. */
function stored(events: DomainEvent[]): Array<Omit<SqlEvent, 'ord'>> {
  return events.map(({ type, subject, data }) => JSON.parse(JSON.stringify({ type, subject, data })));
}

async function request(id: string): Promise<OtpRequestEntity> {
  return toOtpRequestEntity((await t.sql('SELECT * FROM otp_requests WHERE id = $1', [id]))[0]);
}

const REQUEST_SQL = 'SELECT * FROM otp_requests WHERE id = $1';

async function sendBoth(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.gql(SEND, { input: {
    mobileNo: freshMobile(), email: `builders.${Date.now()}.${Math.random().toString(36).slice(2)}@example.com`, channels: ['SMS', 'EMAIL'],
    source: 'builders', type: 'simple_otp', emailFromName: 'Builders', emailSubject: 'Code', emailTemplateId: 'otp_email', ...extra,
  } });
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  return res.body.data.sendOtp.otpRequest.id;
}

describe('attacker: the SQL and JS builders of one event drift apart, so a webhook consumer\'s parser breaks on one path', () => {
  test('otp.sent and its QUEUED / SCHEDULED otp.delivery.updated: otpSentRowsSql equals otpSentEvents', async () => {
    const id = await sendBoth();
    const rows = await t.sql<{ id: string; channel: string }>('SELECT id, channel FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY created_at, channel', [id]);
    const r = await request(id);
    // as written by a send: QUEUED (sent at once), or SCHEDULED (a workflow's later step)
    for (const deliveries of [rows.map((d) => ({ ...d, status: 'QUEUED' })), rows.map((d, i) => ({ ...d, status: i === 0 ? 'QUEUED' : 'SCHEDULED' }))]) {
      const sql = await sqlEvents(REQUEST_SQL, otpSentRowsSql({ id: '$1', deliveries: '$2', mobile: '$3', email: '$4' }),
        [id, JSON.stringify(deliveries), ...maskedRecipients(r)]);
      expect(sql).toEqual(stored(otpSentEvents(r, deliveries)));
      expect(sql[0].data).toMatchObject({ mobile: expect.stringMatching(/\*/), email: expect.stringMatching(/\*/),
        queuedChannels: deliveries.filter((d) => d.status === 'QUEUED').map((d) => d.channel) });
    }
  });

  test('otp.sent for a rule OTP (ruleId and recordId set), with no delivery listed (as for a test recipient)', async () => {
    const mobile = `+9198${String(Date.now()).slice(-8)}`;
    const rule = await createOtpRule(t, {
      name: 'Builders rule', module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
      conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
    });
    const contact = await createRecord(t, 'Contacts', { lastName: 'Builders', mobile, contactStatus: 'Active' });
    const sent = await t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { otpRequest { id } userErrors { code } } }', { r: rule.id, id: contact.id });
    expect(sent.body.data.sendRuleOtp.userErrors).toEqual([]);
    const r = await request(sent.body.data.sendRuleOtp.otpRequest.id);
    expect(r).toMatchObject({ ruleId: rule.id, recordId: contact.id });
    const sql = await sqlEvents(REQUEST_SQL, otpSentRowsSql({ id: '$1', deliveries: '$2', mobile: '$3', email: '$4' }), [r.id, '[]', ...maskedRecipients(r)]);
    expect(sql).toEqual(stored(otpSentEvents(r, [])));
  });

  test('otp.verified: otpVerifiedRowsSql equals otpVerified (verifiedAt and expiresAt to the millisecond)', async () => {
    const id = await sendBoth({ otpCode: '4711' });
    const verified = await t.gql(VERIFY, { input: { otpRequestId: id, code: '4711' } });
    expect(verified.body.data.verifyOtp.verified).toBe(true);
    const r = await request(id);
    expect(r.verifiedAt).toBeInstanceOf(Date);
    const sql = await sqlEvents(REQUEST_SQL, otpVerifiedRowsSql('src', '$2', '$3'), [id, ...maskedRecipients(r)]);
    expect(sql).toEqual(stored([otpVerified(r)]));
  });

  test('otp.failed_attempt, below and at the cap: otpFailedAttemptRowsSql equals otpFailedAttempt', async () => {
    const id = await sendBoth({ otpCode: '4712' });
    for (let i = 1; i <= 5; i += 1) {
      await t.gql(VERIFY, { input: { otpRequestId: id, code: '0000' } });
      const r = await request(id);
      const sql = await sqlEvents(REQUEST_SQL, otpFailedAttemptRowsSql('src'), [id]);
      expect(sql).toEqual(stored([otpFailedAttempt(id, r.attempts, r.maxAttempts)]));
    }
    expect((await request(id)).status).toBe('MAX_ATTEMPTS_REACHED');
  });

  test('otp.canceled, by the user and superseded: otpCanceledRowsSql equals otpCanceled', async () => {
    const id = await sendBoth();
    await t.gql(CANCEL, { id });
    for (const reason of ['CANCELED_BY_USER', 'SUPERSEDED'] as const) {
      const sql = await sqlEvents(REQUEST_SQL, otpCanceledRowsSql('src', reason), [id]);
      expect(sql).toEqual(stored([otpCanceled(id, reason)]));
    }
  });

  test('otp.delivery.updated for SENT, FAILED, DELIVERED and SKIPPED rows, with and without the provider\'s word: otpDeliveryUpdatedRowsSql equals otpDeliveryUpdated', async () => {
    const id = await sendBoth();
    const sent = await waitForRows(t, 'SELECT * FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY channel', [id], (r) => r.length === 2 && r.every((d: any) => d.status === 'SENT'));
    const compare = async (row: Record<string, any>) => {
      const source = 'SELECT *, $2::text AS word FROM otp_deliveries WHERE id = $1';
      expect(await sqlEvents(source, otpDeliveryUpdatedRowsSql('src'), [row.id, null])).toEqual(stored([otpDeliveryUpdated(row)]));
      expect(await sqlEvents(source, otpDeliveryUpdatedRowsSql('src', 'd.word'), [row.id, 'undelivered'])).toEqual(stored([otpDeliveryUpdated(row, 'undelivered')]));
    };
    for (const row of sent) await compare(row);
    // the other final states, on the same rows (the scene: a provider later reported them)
    await t.sql(`UPDATE otp_deliveries SET status = 'DELIVERED', delivered_at = now() WHERE id = $1`, [sent[0].id]);
    await t.sql(`UPDATE otp_deliveries SET status = 'FAILED', error = 'x', error_category = 'UNDELIVERED', failed_at = now() WHERE id = $1`, [sent[1].id]);
    const settled = await t.sql('SELECT * FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY channel', [id]);
    expect(settled.map((d) => d.status)).toEqual(['DELIVERED', 'FAILED']);
    for (const row of settled) await compare(row);
    await t.sql(`UPDATE otp_deliveries SET status = 'SKIPPED' WHERE id = $1`, [sent[0].id]); // a workflow step not sent
    const [skipped] = await t.sql('SELECT * FROM otp_deliveries WHERE id = $1', [sent[0].id]);
    await compare(skipped);
  });
});
