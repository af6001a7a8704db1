import { createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { CANCEL, GET, RESEND, SEND, VERIFY, freshMobile, sendSms } from './otp-helpers';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_graphql', { OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000', OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: '100000' });
});
afterAll(() => t.close());

async function verify(input: Record<string, unknown>, key?: string) {
  const res = await t.gql(VERIFY, { input }, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.verifyOtp;
}

describe('otp over GraphQL: successful cases', () => {
  test('sendOtp queues one delivery per channel and never returns the code', async () => {
    const mobileNo = freshMobile();
    const res = await t.gql(SEND, { input: {
      mobileNo, email: 'user@example.com', channels: ['SMS', 'WHATSAPP', 'EMAIL'], source: 'user_signup', type: 'simple_otp',
      emailFromName: 'Gilchrist', emailSubject: 'Your OTP Code', emailTemplateId: 'otp_email',
    } });
    const { otpRequest, userErrors } = res.body.data.sendOtp;
    expect(userErrors).toEqual([]);
    expect(otpRequest).toMatchObject({
      channels: ['SMS', 'WHATSAPP', 'EMAIL'], maskedMobileNo: `******${mobileNo.slice(-4)}`, maskedEmail: 'u***@example.com',
      source: 'user_signup', type: 'simple_otp', codeLength: 6, codeType: 'NUMERIC', codeCallerSupplied: false, status: 'PENDING',
      attempts: 0, maxAttempts: 5, sendCount: 1,
    });
    expect(otpRequest.deliveries.map((d: { channel: string; status: string }) => [d.channel, d.status]))
      .toEqual([['SMS', 'QUEUED'], ['WHATSAPP', 'QUEUED'], ['EMAIL', 'QUEUED']]);
    const expires = Date.parse(otpRequest.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(9 * 60_000);
    expect(expires).toBeLessThanOrEqual(10 * 60_000 + 5000);
    const [row] = await t.sql('SELECT mobile, code_hash, code_sealed FROM otp_requests WHERE id = $1', [otpRequest.id]);
    expect(row.mobile).toBe(`+91${mobileNo}`);
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.code_sealed).toBeNull();
    const jobs = await t.sql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'otp-delivery' AND data->>'deliveryId' IN (SELECT id::text FROM otp_deliveries WHERE otp_request_id = $1)`, [otpRequest.id]);
    expect(jobs[0].n).toBe(3);
  });

  test('a caller-supplied code verifies once, case-insensitively for letters', async () => {
    const sent = await sendSms(t, { otpCode: 'ab12cd' });
    expect(sent.otpRequest).toMatchObject({ codeCallerSupplied: true, codeLength: 6, codeType: 'ALPHANUMERIC' });
    const ok = await verify({ otpRequestId: sent.otpRequest.id, code: 'AB12CD' });
    expect(ok).toMatchObject({ verified: true, userErrors: [], otpRequest: { id: sent.otpRequest.id, status: 'VERIFIED' } });
    const again = await verify({ otpRequestId: sent.otpRequest.id, code: 'ab12cd' });
    expect(again.verified).toBe(false);
    expect(again.userErrors[0].code).toBe('OTP_INVALID');
  });

  test('verify by recipient and source checks the most recent pending request', async () => {
    const mobileNo = freshMobile();
    const send = (otpCode: string) => t.gql(SEND, { input: { mobileNo, channels: ['SMS'], source: 'login', type: 'simple_otp', otpCode } });
    await send('1111');
    const second = (await send('2222')).body.data.sendOtp.otpRequest;
    const old = await verify({ mobileNo, source: 'login', code: '1111' });
    expect(old).toMatchObject({ verified: false, attemptsLeft: 4 });
    const ok = await verify({ mobileNo, source: 'login', code: '2222' });
    expect(ok).toMatchObject({ verified: true, otpRequest: { id: second.id } });
  });

  test('generated codes follow length and type (checked through the hash of every candidate is impossible; the request records them)', async () => {
    const sent = await sendSms(t, { otpCodeLength: 8, otpCodeType: 'ALPHABETIC' });
    expect(sent.otpRequest).toMatchObject({ codeLength: 8, codeType: 'ALPHABETIC' });
  });

  test('resendOtp sends again after the cooldown, with a new code by default', async () => {
    const sent = await sendSms(t, { otpCode: '4321' });
    const id = sent.otpRequest.id;
    const early = await t.gql(RESEND, { id });
    expect(early.body.data.resendOtp.userErrors[0]).toMatchObject({ code: 'RATE_LIMITED' });
    expect(early.body.data.resendOtp.userErrors[0].message).toMatch(/Try again in \d+ seconds/);
    await t.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '31 seconds' WHERE id = $1`, [id]);
    const res = await t.gql(RESEND, { id });
    expect(res.body.data.resendOtp).toMatchObject({ userErrors: [], otpRequest: { id, sendCount: 2, status: 'PENDING' } });
    const deliveries = await t.sql('SELECT count(*)::int AS n FROM otp_deliveries WHERE otp_request_id = $1', [id]);
    expect(deliveries[0].n).toBe(2);
    // a caller-supplied code is resent as it is
    expect((await verify({ otpRequestId: id, code: '4321' })).verified).toBe(true);
  });

  test('resendOtp with a generated code replaces it', async () => {
    const sent = await sendSms(t);
    const id = sent.otpRequest.id;
    const [before] = await t.sql('SELECT code_hash FROM otp_requests WHERE id = $1', [id]);
    await t.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '31 seconds' WHERE id = $1`, [id]);
    await t.gql(RESEND, { id });
    const [after] = await t.sql('SELECT code_hash FROM otp_requests WHERE id = $1', [id]);
    expect(after.code_hash).not.toBe(before.code_hash);
  });

  test('cancelOtp stops the code from working', async () => {
    const sent = await sendSms(t, { otpCode: '9999' });
    const res = await t.gql(CANCEL, { id: sent.otpRequest.id });
    expect(res.body.data.cancelOtp).toEqual({ otpRequest: { id: sent.otpRequest.id, status: 'CANCELED' }, userErrors: [] });
    const v = await verify({ otpRequestId: sent.otpRequest.id, code: '9999' });
    expect(v.verified).toBe(false);
    expect(v.userErrors[0].code).toBe('OTP_EXPIRED');
  });

  test('otpRequest and otpRequests: admins see all, users their own', async () => {
    const user = await t.keyFor('USER');
    const other = await t.keyFor('USER');
    const mine = await sendSms(t, {}, user.key);
    const adminView = await t.gql(GET, { id: mine.otpRequest.id });
    expect(adminView.body.data.otpRequest).toMatchObject({ id: mine.otpRequest.id, status: 'PENDING', record: null });
    expect((await t.gql(GET, { id: mine.otpRequest.id }, { key: user.key })).body.data.otpRequest.id).toBe(mine.otpRequest.id);
    expect((await t.gql(GET, { id: mine.otpRequest.id }, { key: other.key })).body.data.otpRequest).toBeNull();
    const list = await t.gql('{ otpRequests(first: 5) { totalCount nodes { id } } }', {}, { key: user.key });
    expect(list.body.data.otpRequests).toEqual({ totalCount: 1, nodes: [{ id: mine.otpRequest.id }] });
    const page1 = await t.gql('{ otpRequests(first: 2, filter: { status: PENDING }) { nodes { id status } pageInfo { hasNextPage endCursor } } }');
    expect(page1.body.data.otpRequests.nodes).toHaveLength(2);
    const page2 = await t.gql('query($after: String) { otpRequests(first: 2, after: $after) { nodes { id } } }', { after: page1.body.data.otpRequests.pageInfo.endCursor });
    expect(page2.body.data.otpRequests.nodes[0].id).not.toBe(page1.body.data.otpRequests.nodes[1].id);
  });

  test('recordId binds the OTP to a record, shown as a reference', async () => {
    const recordId = (await createRecord(t, 'Contacts', { lastName: 'Bound' })).id;
    const sent = await sendSms(t, { recordId }); // ruleId must name an existing rule: test/otp/otp-references.test.ts
    const read = await t.gql(GET, { id: sent.otpRequest.id });
    expect(read.body.data.otpRequest.record).toEqual({ id: recordId, label: 'Bound' });
    const [row] = await t.sql('SELECT rule_id, record_id FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);
    expect(row).toEqual({ rule_id: null, record_id: recordId });
    const byRecord = await t.gql('query($r: ID!) { otpRequests(first: 5, filter: { recordId: $r }) { nodes { id } } }', { r: recordId });
    expect(byRecord.body.data.otpRequests.nodes).toEqual([{ id: sent.otpRequest.id }]);
    const none = await t.gql('{ otpRequests(first: 5, filter: { recordId: "garbage" }) { totalCount } }');
    expect(none.body.data.otpRequests.totalCount).toBe(0);
  });
});

describe('otp over GraphQL: failing cases', () => {
  test('every failing field is reported at once, in Laravel wording, and nothing is written', async () => {
    const [before] = await t.sql('SELECT count(*)::int AS n FROM otp_requests');
    const res = await t.gql(SEND, { input: {
      channels: ['SMS', 'EMAIL'], source: 'bad source!', type: 'fancy_otp', otpCodeLength: 3, otpCode: 'x', email: 'not-an-email',
      emailTemplateId: 'nope', recordId: 'not-a-uuid',
    } });
    const errors = res.body.data.sendOtp.userErrors;
    expect(res.body.data.sendOtp.otpRequest).toBeNull();
    expect(errors).toEqual(expect.arrayContaining([
      { field: ['input', 'mobileNo'], code: 'REQUIRED', message: 'The mobile no field is required when channel is sms.' },
      { field: ['input', 'emailFromName'], code: 'REQUIRED', message: 'The email from name field is required when channel is email.' },
      { field: ['input', 'emailSubject'], code: 'REQUIRED', message: 'The email subject field is required when channel is email.' },
      { field: ['input', 'email'], code: 'INVALID', message: 'The email field must be a valid email address.' },
      { field: ['input', 'source'], code: 'INVALID', message: 'The source field format is invalid.' },
      { field: ['input', 'type'], code: 'INVALID', message: 'The selected type is invalid.' },
      { field: ['input', 'otpCodeLength'], code: 'INVALID', message: 'The otp code length field must be at least 4.' },
      { field: ['input', 'otpCode'], code: 'INVALID', message: 'The otp code field must be between 4 and 10 characters.' },
      { field: ['input', 'emailTemplateId'], code: 'INVALID', message: 'The selected email template id is invalid.' },
      { field: ['input', 'recordId'], code: 'INVALID', message: 'The record id field must be a valid UUID.' },
    ]));
    expect(errors).toHaveLength(10);
    const [after] = await t.sql('SELECT count(*)::int AS n FROM otp_requests');
    expect(after.n).toBe(before.n);
  });

  test('a wrong code counts an attempt and reports the attempts left; the fifth locks', async () => {
    const sent = await sendSms(t, { otpCode: '5555' });
    const id = sent.otpRequest.id;
    const lefts = [];
    for (let i = 0; i < 5; i += 1) lefts.push((await verify({ otpRequestId: id, code: '0000' })).attemptsLeft);
    expect(lefts).toEqual([4, 3, 2, 1, 0]);
    const locked = await verify({ otpRequestId: id, code: '5555' });
    expect(locked).toMatchObject({ verified: false, userErrors: [{ code: 'OTP_LOCKED', field: ['input', 'code'] }] });
    expect((await t.gql(GET, { id })).body.data.otpRequest).toMatchObject({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
  });

  test('an expired code is OTP_EXPIRED and the request becomes EXPIRED', async () => {
    const sent = await sendSms(t, { otpCode: '7777' });
    await t.sql(`UPDATE otp_requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [sent.otpRequest.id]);
    const v = await verify({ otpRequestId: sent.otpRequest.id, code: '7777' });
    expect(v).toMatchObject({ verified: false, userErrors: [{ code: 'OTP_EXPIRED' }] });
    const [row] = await t.sql('SELECT status FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);
    expect(row.status).toBe('EXPIRED');
    const resend = await t.gql(RESEND, { id: sent.otpRequest.id });
    expect(resend.body.data.resendOtp.userErrors[0].code).toBe('OTP_EXPIRED');
  });

  test('an unknown recipient gets exactly the answers a wrong code gets', async () => {
    const realMobile = freshMobile();
    await t.gql(SEND, { input: { mobileNo: realMobile, channels: ['SMS'], source: 'enum', type: 'simple_otp', otpCode: '1234' } });
    const ghost = freshMobile();
    const real = [];
    const fake = [];
    for (let i = 0; i < 6; i += 1) {
      real.push(await verify({ mobileNo: realMobile, source: 'enum', code: '9876' }));
      fake.push(await verify({ mobileNo: ghost, source: 'enum', code: '9876' }));
    }
    expect(fake).toEqual(real);
    expect(real.map((r) => r.userErrors[0].code)).toEqual(['OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'OTP_LOCKED']);
  });

  test('resend limits: channels must be the request\'s, and at most OTP_MAX_RESENDS resends', async () => {
    const sent = await sendSms(t);
    const id = sent.otpRequest.id;
    const wrongChannel = await t.gql(RESEND, { id, channels: ['EMAIL'] });
    expect(wrongChannel.body.data.resendOtp.userErrors).toEqual([{ field: ['channels'], code: 'INVALID', message: 'This OTP was not sent on EMAIL.' }]);
    await t.sql('UPDATE otp_requests SET send_count = 6 WHERE id = $1', [id]);
    const capped = await t.gql(RESEND, { id });
    expect(capped.body.data.resendOtp.userErrors[0].code).toBe('LIMIT_REACHED');
  });

  test('cancel and resend of unknown or finished requests', async () => {
    const missing = await t.gql(CANCEL, { id: '00000000-0000-4000-8000-00000000abcd' });
    expect(missing.body.data.cancelOtp.userErrors[0].code).toBe('NOT_FOUND');
    const garbage = await t.gql(CANCEL, { id: 'garbage' });
    expect(garbage.body.data.cancelOtp.userErrors[0].code).toBe('NOT_FOUND');
    const sent = await sendSms(t);
    await t.gql(CANCEL, { id: sent.otpRequest.id });
    const twice = await t.gql(CANCEL, { id: sent.otpRequest.id });
    expect(twice.body.data.cancelOtp.userErrors[0]).toMatchObject({ code: 'INVALID', message: 'Only a pending OTP can be canceled; this one is CANCELED.' });
  });

  test('read-only users cannot send; anonymous callers are UNAUTHENTICATED', async () => {
    const reader = await t.keyFor('READONLY');
    const res = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 's', type: 'simple_otp' } }, { key: reader.key });
    expect(res.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    const anon = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 's', type: 'simple_otp' } }, { key: null });
    expect(anon.body.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  test('a user cannot verify, resend or cancel another user\'s OTP', async () => {
    const owner = await t.keyFor('USER');
    const stranger = await t.keyFor('USER');
    const sent = await sendSms(t, { otpCode: '2468' }, owner.key);
    const v = await verify({ otpRequestId: sent.otpRequest.id, code: '2468' }, stranger.key);
    expect(v.verified).toBe(false);
    const c = await t.gql(CANCEL, { id: sent.otpRequest.id }, { key: stranger.key });
    expect(c.body.data.cancelOtp.userErrors[0].code).toBe('NOT_FOUND');
    expect((await verify({ otpRequestId: sent.otpRequest.id, code: '2468' }, owner.key)).verified).toBe(true);
  });
});

describe('otp over GraphQL: concurrency', () => {
  test('50 parallel verifies of the right code: exactly one succeeds', async () => {
    const sent = await sendSms(t, { otpCode: '135790' });
    const results = await Promise.all(Array.from({ length: 50 }, () => verify({ otpRequestId: sent.otpRequest.id, code: '135790' })));
    expect(results.filter((r) => r.verified)).toHaveLength(1);
    const [row] = await t.sql('SELECT status, attempts FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);
    expect(row).toEqual({ status: 'VERIFIED', attempts: 0 });
  });

  test('50 parallel wrong guesses: exactly maxAttempts are counted, then the request is locked', async () => {
    const sent = await sendSms(t, { otpCode: '864209' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => verify({ otpRequestId: sent.otpRequest.id, code: String(100000 + i) })));
    const codes = results.map((r) => r.userErrors[0].code);
    expect(codes.filter((c) => c === 'OTP_INVALID')).toHaveLength(5);
    expect(codes.filter((c) => c === 'OTP_LOCKED')).toHaveLength(45);
    const [row] = await t.sql('SELECT status, attempts FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);
    expect(row).toEqual({ status: 'MAX_ATTEMPTS_REACHED', attempts: 5 });
    expect((await verify({ otpRequestId: sent.otpRequest.id, code: '864209' })).userErrors[0].code).toBe('OTP_LOCKED');
  });

  test('one document with 15 aliased verifyOtp fields counts 15 attempts; 16 aliases are refused', async () => {
    const sent = await sendSms(t, { otpCode: '112233' });
    await t.sql('UPDATE otp_requests SET max_attempts = 100 WHERE id = $1', [sent.otpRequest.id]);
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `v${i}: verifyOtp(input: { otpRequestId: $id, code: "${900000 + i}" }) { verified }`).join('\n');
    const res = await t.gql(`mutation($id: ID!) {\n${fields(15)}\n}`, { id: sent.otpRequest.id });
    expect(res.body.errors).toBeUndefined();
    const [row] = await t.sql('SELECT attempts FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);
    expect(row.attempts).toBe(15);
    const tooMany = await t.gql(`mutation($id: ID!) {\n${fields(16)}\n}`, { id: sent.otpRequest.id });
    expect(tooMany.body.errors?.[0].message).toMatch(/alias/i);
    const [after] = await t.sql('SELECT attempts FROM otp_requests WHERE id = $1', [sent.otpRequest.id]);
    expect(after.attempts).toBe(15);
  });
});
