import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RuleOtpWorld } from '../otp-rules/rule-otp-helpers';
import { freshMobile } from '../otp/otp-helpers';
import { until } from '../support/poll';
import type { TestServer } from '../support/test-server';
import { CREATE_CONNECTION, CREATE_RECORD, idempotent, restSend, SEND_OTP, SEND_RULE_OTP } from './idempotency-helpers';

// Idempotency keys from the caller's side: retries over a bad network must never send a second OTP or create a second
// record, and a key must never leak another caller's answer. Messages are counted where they land: at a local Twilio.
const w = new RuleOtpWorld();
let t: TestServer;
let partner: { key: string; userId: string };
beforeAll(async () => {
  t = await w.start('idempotency');
  partner = await t.keyFor('USER');
});
afterAll(() => w.stop());

const smsInput = (mobileNo: string, extra: Record<string, unknown> = {}) => ({ mobileNo, channels: ['SMS'], source: 'idem_test', type: 'simple_otp', ...extra });
const sendOtp = (input: Record<string, unknown>, key: string | null | undefined, bearer = partner.key) =>
  idempotent(t, SEND_OTP, 'sendOtp', 'otpRequest', { input, key }, bearer);
const requestsTo = async (mobileNo: string) => (await t.sql('SELECT id FROM otp_requests WHERE mobile = $1', [`+91${mobileNo}`])).map((r) => r.id);
/** Waits until every delivery to the number left the queue, then counts what the provider got. */
async function messagesTo(mobileNo: string): Promise<number> {
  await until(`deliveries to ${mobileNo} settled`, async () => {
    const rows = await t.sql("SELECT status FROM otp_deliveries WHERE recipient = $1", [`+91${mobileNo}`]);
    return rows.length > 0 && rows.every((r) => !['QUEUED', 'SENDING'].includes(r.status));
  }, 20_000);
  return w.smsCount(`+91${mobileNo}`);
}

/** Holds every write to `table` until `release` (a second session's lock), so the first request stays in flight. */
async function holdWrites(table: string): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: t.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  return { async release() { await client.query('COMMIT'); await client.end(); } };
}
const running = (key: string) => until(`key ${key} RUNNING`, async () => (await t.sql("SELECT 1 FROM idempotency_keys WHERE key = $1 AND state = 'RUNNING'", [key])).length > 0, 10_000);

describe('a race of 20 parallel retries with one key', () => {
  test('GraphQL sendOtp: one OTP, one message; every answer is that OTP or "still running"', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => sendOtp(smsInput(mobileNo), key)));
    const ids = new Set(outcomes.filter((o) => o.id).map((o) => o.id));
    expect(ids.size).toBe(1);
    for (const o of outcomes.filter((x) => !x.id)) expect(o.errors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_IN_USE']);
    expect(await requestsTo(mobileNo)).toEqual([...ids]);
    expect(await messagesTo(mobileNo)).toBe(1);
    // once the first has finished, every retry gets its answer
    const late = await sendOtp(smsInput(mobileNo), key);
    expect(late).toEqual({ id: [...ids][0], userErrors: [], errors: [] });
    expect(await messagesTo(mobileNo)).toBe(1);
  });

  test('REST send-otp: one OTP, one message; answers are the same 200 body or 409 with Retry-After', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const body = { mobile_no: mobileNo, channel: 'sms', source: 'idem_test', type: 'simple_otp' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => restSend(t, body, key, partner.key)));
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((a) => a.text)).size).toBe(1); // replays are the first answer byte for byte
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a).toMatchObject({ status: 409, retryAfter: expect.stringMatching(/^\d+$/), body: { status: false, data: { reason: 'IDEMPOTENCY_KEY_IN_USE' } } });
    }
    expect(await requestsTo(mobileNo)).toEqual([ok[0].body.data.otp_request_id]);
    expect(await messagesTo(mobileNo)).toBe(1);
    expect(await restSend(t, body, key, partner.key)).toMatchObject({ status: 200, text: ok[0].text });
  });
});

describe('the same key with a different payload', () => {
  test('GraphQL: IDEMPOTENCY_KEY_REUSED naming the argument, nothing sent; the first answer still replays', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const first = await sendOtp(smsInput(mobileNo), key);
    const other = await sendOtp(smsInput(freshMobile()), key);
    expect(other.id).toBeNull();
    expect(other.errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', argumentName: 'idempotencyKey' })]);
    expect(await sendOtp(smsInput(mobileNo, { otpCodeLength: 8 }), key)).toMatchObject({ errors: [{ code: 'IDEMPOTENCY_KEY_REUSED' }] });
    expect(await sendOtp(smsInput(mobileNo), key)).toMatchObject({ id: first.id });
    expect(await requestsTo(mobileNo)).toEqual([first.id]);
  });

  test('the same input written differently (field order, absent vs null) is the same payload', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const first = await sendOtp({ type: 'simple_otp', source: 'idem_test', channels: ['SMS'], mobileNo }, key);
    expect(await sendOtp({ mobileNo, channels: ['SMS'], source: 'idem_test', type: 'simple_otp', otpCode: null }, key)).toMatchObject({ id: first.id, errors: [] });
  });

  test('the same key on another mutation is a different payload', async () => {
    const key = randomUUID();
    await sendOtp(smsInput(freshMobile()), key);
    const record = await idempotent(t, CREATE_RECORD, 'createRecord', 'record', { module: 'Contacts', fields: { lastName: 'Reuse' }, key }, partner.key);
    expect(record.errors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  test('REST: 422 in the partner shape, nothing sent', async () => {
    const key = randomUUID();
    const mobileNo = freshMobile();
    expect((await restSend(t, { mobile_no: mobileNo, channel: 'sms', source: 'idem_test', type: 'simple_otp' }, key, partner.key)).status).toBe(200);
    const other = freshMobile();
    const reused = await restSend(t, { mobile_no: other, channel: 'sms', source: 'idem_test', type: 'simple_otp' }, key, partner.key);
    expect(reused).toMatchObject({ status: 422, body: { status: false, message: expect.stringMatching(/different request/), data: { reason: 'IDEMPOTENCY_KEY_REUSED' } } });
    expect(await requestsTo(other)).toEqual([]);
  });
});

describe('a retry while the first request is still running', () => {
  test('REST 409 with Retry-After and GraphQL IDEMPOTENCY_KEY_IN_USE; after it finishes, its answer', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const body = { mobile_no: mobileNo, channel: 'sms', source: 'idem_test', type: 'simple_otp' };
    const hold = await holdWrites('otp_requests');
    const first = restSend(t, body, key, partner.key);
    try {
      await running(key);
      const retry = await restSend(t, body, key, partner.key);
      expect(retry).toMatchObject({ status: 409, retryAfter: expect.stringMatching(/^\d+$/), body: { status: false, data: { reason: 'IDEMPOTENCY_KEY_IN_USE' } } });
    } finally {
      await hold.release();
    }
    const answered = await first;
    expect(answered.status).toBe(200);
    expect(await restSend(t, body, key, partner.key)).toMatchObject({ status: 200, text: answered.text });
    expect(await requestsTo(mobileNo)).toEqual([answered.body.data.otp_request_id]);
  });

  test('GraphQL createRecord: IDEMPOTENCY_KEY_IN_USE with retryAfterSeconds, then one record', async () => {
    const key = randomUUID();
    const lastName = `InFlight ${randomUUID()}`;
    const variables = { module: 'Contacts', fields: { lastName }, key };
    const hold = await holdWrites('records');
    const first = idempotent(t, CREATE_RECORD, 'createRecord', 'record', variables, partner.key);
    try {
      await running(key);
      const retry = await idempotent(t, CREATE_RECORD, 'createRecord', 'record', variables, partner.key);
      expect(retry.errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_IN_USE', argumentName: 'idempotencyKey', retryAfterSeconds: expect.any(Number) })]);
    } finally {
      await hold.release();
    }
    const created = await first;
    expect(created.id).toEqual(expect.any(String));
    expect(await idempotent(t, CREATE_RECORD, 'createRecord', 'record', variables, partner.key)).toMatchObject({ id: created.id, errors: [] });
    expect(await t.sql("SELECT id FROM records WHERE fields->>'lastName' = $1", [lastName])).toEqual([{ id: created.id }]);
  });
});

describe('another caller using the same key', () => {
  test('is independent: it runs its own request and never sees the first caller\'s answer', async () => {
    const other = await t.keyFor('USER');
    const key = randomUUID();
    const mobileNo = freshMobile();
    const mine = await sendOtp(smsInput(mobileNo), key);
    const theirs = await sendOtp(smsInput(mobileNo), key, other.key);
    expect(theirs.id).toEqual(expect.any(String));
    expect(theirs.id).not.toBe(mine.id);
    const theirsOther = await sendOtp(smsInput(freshMobile()), randomUUID(), other.key);
    expect(theirsOther.errors).toEqual([]);
    // a different payload under my key for them is not "reused": the key is theirs to use as they like
    const differentForThem = await sendOtp(smsInput(freshMobile()), key, (await t.keyFor('USER')).key);
    expect(differentForThem.errors).toEqual([]);
    expect(await sendOtp(smsInput(mobileNo), key)).toMatchObject({ id: mine.id });
  });
});

describe('aliases in one GraphQL document using the same key', () => {
  test('the second alias gets the first one\'s answer; one OTP, one message', async () => {
    const mobileNo = freshMobile();
    const res = await t.gql(`mutation($input: SendOtpInput!, $key: String) {
      a: sendOtp(input: $input, idempotencyKey: $key) { otpRequest { id } userErrors { code } }
      b: sendOtp(input: $input, idempotencyKey: $key) { otpRequest { id } userErrors { code } } }`, { input: smsInput(mobileNo), key: randomUUID() }, { key: partner.key });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.b.otpRequest.id).toBe(res.body.data.a.otpRequest.id);
    expect(await messagesTo(mobileNo)).toBe(1);
  });

  test('with different inputs, the second alias is refused (data is null: payloads are non-null) and only the first ran', async () => {
    const [first, second] = [freshMobile(), freshMobile()];
    const key = randomUUID();
    const res = await t.gql(`mutation($a: SendOtpInput!, $b: SendOtpInput!, $key: String) {
      a: sendOtp(input: $a, idempotencyKey: $key) { otpRequest { id } userErrors { code } }
      b: sendOtp(input: $b, idempotencyKey: $key) { otpRequest { id } userErrors { code } } }`,
    { a: smsInput(first), b: smsInput(second), key }, { key: partner.key });
    expect(res.body.data).toBeNull();
    expect(res.body.errors.map((e: any) => [e.path, e.extensions.code])).toEqual([[['b'], 'IDEMPOTENCY_KEY_REUSED']]);
    const [sent] = await requestsTo(first);
    expect(await requestsTo(second)).toEqual([]);
    // the first alias's answer is kept under the key
    expect(await sendOtp(smsInput(first), key)).toMatchObject({ id: sent });
  });
});

describe('keys at and past every bound', () => {
  const tooLong = 'k'.repeat(256);
  test.each([
    ['empty', ''], ['256 characters', tooLong], ['a newline', 'abc\ndef'], ['a tab', 'abc\tdef'], ['non-ASCII', 'clé-1'], ['a DEL character', 'abc\x7f'],
  ])('GraphQL: a key with %s is BAD_USER_INPUT naming idempotencyKey, and nothing is sent', async (_label, key) => {
    const mobileNo = freshMobile();
    const outcome = await sendOtp(smsInput(mobileNo), key);
    expect(outcome.errors).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', argumentName: 'idempotencyKey' })]);
    expect(await requestsTo(mobileNo)).toEqual([]);
  });

  test('GraphQL: 1 and 255 printable characters (space and ~ included) are accepted', async () => {
    for (const key of ['x', `${randomUUID()} ~!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}`.padEnd(255, 'z')]) {
      const mobileNo = freshMobile();
      const first = await sendOtp(smsInput(mobileNo), `${key}`);
      expect(first.errors).toEqual([]);
      expect(await sendOtp(smsInput(mobileNo), key)).toMatchObject({ id: first.id });
    }
  });

  test('REST: an empty or 256-character header is 400; a Structured Field string "…" is the same key as its bare text', async () => {
    const mobileNo = freshMobile();
    const body = { mobile_no: mobileNo, channel: 'sms', source: 'idem_test', type: 'simple_otp' };
    expect(await restSend(t, body, tooLong, partner.key)).toMatchObject({ status: 400, body: { status: false, message: expect.stringMatching(/Idempotency-Key/) } });
    expect((await restSend(t, body, '', partner.key)).status).toBe(400);
    expect(await requestsTo(mobileNo)).toEqual([]);
    const bare = randomUUID();
    const first = await restSend(t, body, bare, partner.key);
    expect(await restSend(t, body, `"${bare}"`, partner.key)).toMatchObject({ status: 200, text: first.text });
    expect(await requestsTo(mobileNo)).toHaveLength(1);
  });

  test('no key at all: every request runs (the key is optional)', async () => {
    const mobileNo = freshMobile();
    const a = await sendOtp(smsInput(mobileNo), undefined);
    const b = await sendOtp(smsInput(mobileNo), null);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(b.id).not.toBe(a.id); // one live OTP per purpose: the second supersedes the first
  });
});

describe('a first request that was refused', () => {
  test('frees the key: nothing was written, so the corrected retry with the same key runs', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const refused = await sendOtp(smsInput(mobileNo, { otpCodeLength: 3 }), key);
    expect(refused.userErrors).toEqual(['INVALID']);
    const corrected = await sendOtp(smsInput(mobileNo), key);
    expect(corrected).toMatchObject({ id: expect.any(String), errors: [] });
  });
});

describe('createRecord, createConnection and sendRuleOtp retried with one key', () => {
  test('createRecord: 10 parallel retries make one record', async () => {
    const key = randomUUID();
    const lastName = `Once ${randomUUID()}`;
    const outcomes = await Promise.all(Array.from({ length: 10 }, () =>
      idempotent(t, CREATE_RECORD, 'createRecord', 'record', { module: 'Contacts', fields: { lastName }, key }, partner.key)));
    expect(new Set(outcomes.filter((o) => o.id).map((o) => o.id)).size).toBe(1);
    expect(await t.sql("SELECT id FROM records WHERE fields->>'lastName' = $1", [lastName])).toHaveLength(1);
  });

  test('createConnection: a retry answers the same connection', async () => {
    const a = await w.createRecord('Contacts', { lastName: `Conn A ${randomUUID()}` });
    const b = await w.createRecord('Organizations', { name: `Conn B ${randomUUID()}` });
    const key = randomUUID();
    const input = { typeId: '00000000-0000-4000-8100-000000000006', sourceId: a.id, targetId: b.id };
    const first = await idempotent(t, CREATE_CONNECTION, 'createConnection', 'connection', { input, key }, partner.key);
    expect(first.errors).toEqual([]);
    expect(first.userErrors).toEqual([]);
    expect(await idempotent(t, CREATE_CONNECTION, 'createConnection', 'connection', { input, key }, partner.key)).toMatchObject({ id: first.id, userErrors: [] });
    // without the key the same request is a duplicate
    expect((await idempotent(t, CREATE_CONNECTION, 'createConnection', 'connection', { input }, partner.key)).userErrors).toEqual(['DUPLICATE_CONNECTION']);
  });

  test('sendRuleOtp: a retry answers the same OTP and sends no second SMS', async () => {
    const rule = await w.createRule({
      module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
      conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
    });
    try {
      const { id, mobile } = await w.contact();
      const key = randomUUID();
      const first = await idempotent(t, SEND_RULE_OTP, 'sendRuleOtp', 'otpRequest', { ruleId: rule.id, recordId: id, key });
      expect(first).toMatchObject({ id: expect.any(String), userErrors: [], errors: [] });
      expect(await idempotent(t, SEND_RULE_OTP, 'sendRuleOtp', 'otpRequest', { ruleId: rule.id, recordId: id, key })).toMatchObject({ id: first.id });
      expect(await messagesTo(mobile)).toBe(1);
    } finally {
      await w.deactivateRules();
    }
  });
});

describe('stored answers', () => {
  test('hold ids and the partner answer only: never the code, even a caller-supplied one', async () => {
    const gqlKey = randomUUID();
    const restKey = randomUUID();
    await sendOtp(smsInput(freshMobile(), { otpCode: 'QX7319' }), gqlKey);
    await restSend(t, { mobile_no: freshMobile(), channel: 'sms', source: 'idem_test', type: 'simple_otp', otp_code: 'QX7319' }, restKey, partner.key);
    const rows = await t.sql('SELECT key, answer::text AS answer FROM idempotency_keys WHERE key = ANY($1)', [[gqlKey, restKey]]);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.answer).not.toMatch(/QX7319/i);
    expect(JSON.parse(rows.find((r) => r.key === gqlKey).answer)).toEqual({ id: expect.any(String) });
  });
});

describe('a retry after 24 hours', () => {
  test('within 24 h the answer replays; after, the key is free and the request runs again', async () => {
    const mobileNo = freshMobile();
    const key = randomUUID();
    const first = await sendOtp(smsInput(mobileNo), key);
    t.app.services.clock.advance(24 * 3600_000 - 60_000);
    expect(await sendOtp(smsInput(mobileNo), key)).toMatchObject({ id: first.id });
    t.app.services.clock.advance(61_000);
    const later = await sendOtp(smsInput(mobileNo), key);
    expect(later).toMatchObject({ id: expect.any(String), errors: [] });
    expect(later.id).not.toBe(first.id);
    expect(await sendOtp(smsInput(mobileNo), key)).toMatchObject({ id: later.id });
    // the sweep deletes keys past their 24 h
    t.app.services.clock.advance(24 * 3600_000 + 1000);
    expect(await t.app.services.idempotency.deleteExpired()).toBeGreaterThanOrEqual(1);
    expect(await t.sql('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).toEqual([]);
  });
});
