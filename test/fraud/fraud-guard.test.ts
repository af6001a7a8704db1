import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server';
import { until } from '../support/poll';
import { SEND, RESEND } from '../otp/otp-helpers';
import { ADMIN_LISTS, addSafe, gqlData, inPrefix, removeGeo, sendTo, setGeo, splitE164, unblock, verify } from './fraud-helpers';

/** The fraud guard from the user's side: REST and GraphQL sends, admin operations, on a real server and Postgres. */

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('fraud_guard', {
    OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000', OTP_RESEND_COOLDOWN_SECONDS: '0',
    FRAUD_GEO_BLOCK: 'IT', FRAUD_GEO_MONITOR: 'FR',
  });
});
afterAll(() => t.close());

async function written(e164: string): Promise<{ requests: number; limits: number }> {
  const [{ requests }] = await t.sql('SELECT count(*)::int AS requests FROM otp_requests WHERE mobile = $1', [e164]);
  const [{ limits }] = await t.sql('SELECT count(*)::int AS limits FROM otp_rate_limits WHERE key LIKE $1', [`%${e164}%`]);
  return { requests, limits };
}

describe('an attacker pumps a premium, shared-cost, toll-free, pager, UAN or fixed-line number', () => {
  test.each([
    ['+449090901234', 'PREMIUM_RATE', 'premium-rate'],
    ['+34901123456', 'SHARED_COST', 'shared-cost'],
    ['+448001111111', 'TOLL_FREE', 'toll-free'],
    ['+447640123456', 'PAGER', 'pager'],
    ['+445512345678', 'UAN', 'uan'],
    ['+442079460000', 'FIXED_LINE', 'fixed-line'],
  ])('%s (%s) is refused over REST with 422 on mobile_no; nothing is written, no limit is taken', async (e164, type, words) => {
    const res = await sendTo(t, e164);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ status: false, message: 'Invalid Payload', errors: { mobile_no: [`The mobile no field must be a mobile number; OTPs are not sent to ${words} numbers.`] } });
    expect(await written(e164)).toEqual({ requests: 0, limits: 0 });
    const [country, national] = splitE164(e164);
    const gql = await t.gql(SEND, { input: { mobileNo: national, countryCode: country, channels: ['WHATSAPP'], source: 'fraud_test', type: 'simple_otp' } });
    expect(gql.body.data.sendOtp).toEqual({ otpRequest: null, userErrors: [{ field: ['input', 'mobileNo'], code: 'NUMBER_NOT_ALLOWED', message: expect.stringContaining(words) }] });
    const blocked = (await gqlData(t, ADMIN_LISTS.blockedSends, { reason: 'NUMBER_TYPE' })).blockedSends.nodes.filter((n: any) => n.numberType === type);
    expect(blocked).toHaveLength(2);
    expect(blocked[0]).toEqual(expect.objectContaining({ reason: 'NUMBER_TYPE', maskedNumber: expect.stringMatching(/^\+\d+\*+\d{4}$/), source: 'fraud_test',
      apiKeyId: expect.any(String), user: { email: 'admin@countersign.local' } }));
    expect(JSON.stringify(blocked)).not.toContain(e164.slice(3));
  });

  test('a mobile number of the same country is sent to; an email-only send is never screened', async () => {
    expect((await sendTo(t, '+447400123456')).status).toBe(200);
    const email = await t.gql(SEND, { input: { email: 'fraud@example.com', channels: ['EMAIL'], emailFromName: 'A', emailSubject: 'S', emailTemplateId: 'otp_email', source: 'fraud_test', type: 'simple_otp' } });
    expect(email.body.data.sendOtp.userErrors).toEqual([]);
  });

  test('allowed types are configuration: with MOBILE,FIXED_LINE a fixed line passes and a fixed-line-or-mobile (US) number does not', async () => {
    const other = await startTestServer('fraud_types', { OTP_WORKER: 'false', FRAUD_ALLOWED_NUMBER_TYPES: 'MOBILE,FIXED_LINE' });
    try {
      expect((await sendTo(other, '+442079460000')).status).toBe(200);
      const us = await sendTo(other, '+12025550123');
      expect(us.status).toBe(422);
      expect(us.body.errors.mobile_no[0]).toContain('fixed-line-or-mobile');
    } finally {
      await other.close();
    }
  });
});

describe('a blocked and a monitored country', () => {
  test('IT (blocked at start) is refused on country_code; FR (monitored) is sent and flagged', async () => {
    const it = await sendTo(t, '+393123456789');
    expect(it.status).toBe(422);
    expect(it.body.errors).toEqual({ country_code: ['The country code field names a country OTPs are not sent to (IT).'] });
    expect(await written('+393123456789')).toEqual({ requests: 0, limits: 0 });
    const fr = await sendTo(t, '+33612345678');
    expect(fr.status).toBe(200);
    const [event] = await t.sql(`SELECT monitored, country FROM fraud_events WHERE otp_request_id = $1`, [fr.body.data.otp_request_id]);
    expect(event).toEqual({ monitored: true, country: 'FR' });
  });

  test('an admin allows IT at run time, then removes the permission: the environment applies again', async () => {
    expect(await setGeo(t, 'it', 'ALLOW')).toEqual({ geoPermission: { country: 'IT', action: 'ALLOW', origin: 'ADMIN' }, userErrors: [] });
    expect((await sendTo(t, '+393123456780')).status).toBe(200);
    expect(await removeGeo(t, 'IT')).toEqual({ geoPermission: { country: 'IT', action: 'BLOCK', origin: 'ENVIRONMENT' }, userErrors: [] });
    expect((await sendTo(t, '+393123456781')).status).toBe(422);
    expect((await removeGeo(t, 'IT')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['country'] })]);
  });

  test('the default (*) blocks every unlisted country; the page lists environment and admin entries', async () => {
    await setGeo(t, 'IN', 'ALLOW');
    await setGeo(t, '*', 'BLOCK');
    try {
      expect((await sendTo(t, '+447400123457')).status).toBe(422);
      expect((await sendTo(t, inPrefix('+91987650'))).status).toBe(200);
      const page = (await gqlData(t, '{ geoPermissions(first: 100) { totalCount nodes { country action origin } } }')).geoPermissions;
      expect(page.nodes).toEqual([
        { country: '*', action: 'BLOCK', origin: 'ADMIN' }, { country: 'FR', action: 'MONITOR', origin: 'ENVIRONMENT' },
        { country: 'IN', action: 'ALLOW', origin: 'ADMIN' }, { country: 'IT', action: 'BLOCK', origin: 'ENVIRONMENT' },
      ]);
      expect(page.totalCount).toBe(4);
    } finally {
      await removeGeo(t, '*');
      await removeGeo(t, 'IN');
    }
    expect((await sendTo(t, '+447400123458')).status).toBe(200);
  });

  test('attacker: bad countries get a clear error, and a non-admin may neither read nor change the lists', async () => {
    for (const bad of ['GBR', 'G', '1', '']) expect((await setGeo(t, bad, 'BLOCK')).userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['country'] })]);
    const user = await t.keyFor('USER');
    for (const op of ['{ geoPermissions { totalCount } }', '{ safeList { totalCount } }', '{ prefixBlocks { totalCount } }', '{ blockedSends { totalCount } }',
      '{ conversionSummary { totalCount } }', 'mutation { setGeoPermission(country: "IN", action: BLOCK) { userErrors { code } } }',
      'mutation { unblockPrefix(prefix: "+9198") { userErrors { code } } }']) {
      const res = await t.gql(op, {}, { key: user.key });
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await t.gql('{ geoPermissions(first: 101) { totalCount } }')).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  test('a change on one instance applies on another (LISTEN/NOTIFY)', async () => {
    const second = await startTestServer('fraud_geo_second', { OTP_WORKER: 'false' }, t);
    try {
      expect((await sendTo(second, '+34612345678')).status).toBe(200);
      await setGeo(t, 'ES', 'BLOCK');
      await until('the second instance blocks ES', async () => (await sendTo(second, '+34612345678')).status === 422, 10_000);
    } finally {
      await removeGeo(t, 'ES');
      await second.close();
    }
  });
});

describe('a bot sends 40 codes to one prefix and verifies none', () => {
  const BOT = '+91987651';
  test('the first 20 go out, then the prefix is blocked for 12 h (FRAUD_SUSPECTED, 429 + Retry-After) while another prefix still gets codes', async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof sendTo>> | null = null;
    for (let i = 0; i < 40; i += 1) {
      const res = await sendTo(t, inPrefix(BOT));
      statuses.push(res.status);
      if (res.status !== 200) refused = res;
      if (i % 10 === 9) { // a real user in another prefix, meanwhile
        const mobile = inPrefix('+91987652');
        const sent = await sendTo(t, mobile, { otp_code: '5813' });
        expect(sent.status).toBe(200);
        expect((await verify(t, sent.body.data.otp_request_id, '5813')).status).toBe(200);
      }
    }
    expect(statuses).toEqual([...Array(20).fill(200), ...Array(20).fill(429)]);
    expect(refused!.body).toEqual({ status: false, message: expect.stringContaining('suspected SMS pumping'), data: { reason: 'FRAUD_SUSPECTED', retry_after: expect.any(Number) } });
    expect(refused!.body.data.retry_after).toBeGreaterThan(12 * 3600 - 60);
    expect(refused!.body.data.retry_after).toBeLessThanOrEqual(12 * 3600);
    expect(Number(refused!.headers.get('retry-after'))).toBe(refused!.body.data.retry_after);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM otp_requests WHERE mobile LIKE $1`, [`${BOT}%`]);
    expect(n).toBe(20);
    const blocks = (await gqlData(t, ADMIN_LISTS.prefixBlocks)).prefixBlocks.nodes.filter((b: any) => b.prefix === BOT);
    expect(blocks).toEqual([expect.objectContaining({ prefix: BOT, country: 'IN', level: 1, sends: 20, verified: 0, active: true, liftedAt: null })]);
    expect(blocks[0].reason).toContain('0 of 20');
    const blocked = (await gqlData(t, ADMIN_LISTS.blockedSends, { reason: 'PREFIX_BLOCKED' })).blockedSends;
    expect(blocked.nodes.filter((b: any) => b.prefix === BOT)).toHaveLength(20);
  });

  test('GraphQL sendOtp and resendOtp to the blocked prefix answer FRAUD_SUSPECTED', async () => {
    const [cc, national] = splitE164(inPrefix(BOT));
    const send = await t.gql(SEND, { input: { mobileNo: national, countryCode: cc, channels: ['SMS'], source: 'fraud_test', type: 'simple_otp' } });
    expect(send.body.data.sendOtp.userErrors).toEqual([expect.objectContaining({ code: 'FRAUD_SUSPECTED', message: expect.stringMatching(/Try again in \d+ seconds\.$/) })]);
    const [earlier] = await t.sql(`SELECT id FROM otp_requests WHERE mobile LIKE $1 ORDER BY created_at LIMIT 1`, [`${BOT}%`]);
    const resend = await t.gql(RESEND, { id: earlier.id });
    expect(resend.body.data.resendOtp.userErrors).toEqual([expect.objectContaining({ code: 'FRAUD_SUSPECTED' })]);
    const [{ send_count }] = await t.sql('SELECT send_count FROM otp_requests WHERE id = $1', [earlier.id]);
    expect(send_count).toBe(1);
  });

  test('a safe-listed number passes the block; a safe-listed prefix passes number screening', async () => {
    const friend = inPrefix(BOT);
    expect((await sendTo(t, friend)).status).toBe(429);
    expect((await addSafe(t, 'NUMBER', friend, 'our QA phone')).userErrors).toEqual([]);
    expect((await sendTo(t, friend)).status).toBe(200);
    expect((await addSafe(t, 'NUMBER', friend)).userErrors).toEqual([expect.objectContaining({ code: 'TAKEN' })]);
    expect((await addSafe(t, 'PREFIX', '+4490909')).userErrors).toEqual([]);
    expect((await sendTo(t, '+449090901235')).status).toBe(200);
    expect((await addSafe(t, 'NUMBER', '+12')).userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['input', 'value'] })]);
    const list = (await gqlData(t, '{ safeList(first: 10) { totalCount nodes { id kind value note } } }')).safeList;
    expect(list.nodes.map((n: any) => [n.kind, n.value])).toEqual([['PREFIX', '+4490909'], ['NUMBER', friend]]);
    const removed = await gqlData(t, 'mutation($id: ID!) { removeSafeListEntry(id: $id) { safeListEntry { value } userErrors { code } } }', { id: list.nodes[0].id });
    expect(removed.removeSafeListEntry).toEqual({ safeListEntry: { value: '+4490909' }, userErrors: [] });
    expect((await sendTo(t, '+449090901236')).status).toBe(422);
  });

  test('unblockPrefix lifts the block at once; a repeat after the block ran its course lasts 24 h', async () => {
    expect(await unblock(t, BOT)).toEqual({ prefixBlock: { prefix: BOT, active: false, liftedAt: expect.any(String) }, userErrors: [] });
    expect((await unblock(t, BOT)).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect((await unblock(t, 'x')).userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['prefix'] })]);
    const again: number[] = [];
    for (let i = 0; i < 21; i += 1) again.push((await sendTo(t, inPrefix(BOT))).status);
    expect(again).toEqual([...Array(20).fill(200), 429]); // counters started afresh; a lifted block is no repeat offence (level 1 again)
    // 12 hours pass (for this prefix's log and blocks): the block runs its course
    await t.sql(`UPDATE fraud_events SET created_at = created_at - interval '12 hours 1 second' WHERE prefix = $1`, [BOT]);
    await t.sql(`UPDATE fraud_prefix_blocks SET created_at = created_at - interval '12 hours 1 second', expires_at = expires_at - interval '12 hours 1 second',
                 lifted_at = lifted_at - interval '12 hours 1 second' WHERE prefix = $1`, [BOT]);
    for (let i = 0; i < 20; i += 1) expect((await sendTo(t, inPrefix(BOT))).status).toBe(200);
    const repeat = await sendTo(t, inPrefix(BOT));
    expect(repeat.status).toBe(429);
    expect(repeat.body.data.retry_after).toBeGreaterThan(24 * 3600 - 60);
    const active = (await gqlData(t, ADMIN_LISTS.prefixBlocks)).prefixBlocks.nodes.filter((b: any) => b.prefix === BOT);
    expect(active.map((b: any) => b.level)).toEqual([2]);
    const all = (await gqlData(t, ADMIN_LISTS.prefixBlocks, { activeOnly: false })).prefixBlocks.nodes.filter((b: any) => b.prefix === BOT);
    expect(all.map((b: any) => [b.level, b.active])).toEqual([[2, true], [1, false], [1, false]]);
  });

  test('a prefix whose codes are used is never blocked (5 of 25 verified = 20 %)', async () => {
    const prefix = '+91987653';
    for (let i = 0; i < 25; i += 1) {
      const sent = await sendTo(t, inPrefix(prefix), { otp_code: '2468' });
      expect(sent.status).toBe(200);
      if (i % 5 === 0) expect((await verify(t, sent.body.data.otp_request_id, '2468')).status).toBe(200);
    }
    expect((await sendTo(t, inPrefix(prefix))).status).toBe(200);
  });
});

describe('attacker: races and bounds on the admin lists', () => {
  test('50 parallel adds of one safe-list value: exactly one is created, 49 are TAKEN', async () => {
    const value = '+447911123400';
    const answers = await Promise.all(Array.from({ length: 50 }, () => addSafe(t, 'NUMBER', value)));
    expect(answers.filter((a) => a.safeListEntry).length).toBe(1);
    expect(answers.filter((a) => a.userErrors[0]?.code === 'TAKEN').length).toBe(49);
  });

  test('a note of 200 characters is kept, 201 is refused; a value past 32 characters or not a number is refused; nothing is written', async () => {
    expect((await addSafe(t, 'PREFIX', '+4479112', 'n'.repeat(200))).safeListEntry.note).toHaveLength(200);
    const long = await t.gql('mutation($i: SafeListEntryInput!) { addSafeListEntry(input: $i) { userErrors { code } } }', { i: { kind: 'PREFIX', value: '+4479113', note: 'n'.repeat(201) } });
    expect(long.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const huge = await t.gql('mutation($i: SafeListEntryInput!) { addSafeListEntry(input: $i) { userErrors { code } } }', { i: { kind: 'PREFIX', value: `+${'4'.repeat(32)}` } });
    expect(huge.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    for (const value of ['4479114', '+44-7911', '+0447911', '+4', '+441234567890123']) {
      expect((await addSafe(t, 'PREFIX', value)).userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['input', 'value'] })]);
    }
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM fraud_safe_list WHERE value LIKE '+447911%' AND value <> '+4479112' AND value <> '+447911123400'`);
    expect(n).toBe(0);
    const gone = await gqlData(t, 'mutation { removeSafeListEntry(id: "not-an-id") { userErrors { code field } } }');
    expect(gone.removeSafeListEntry.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['id'] }]);
  });
});

describe('the fraud signal cannot be computed', () => {
  test('CLOSED_UNLESS_ALLOWED (default): refused as FRAUD_SUSPECTED, unless the country is on the allow list', async () => {
    await t.sql('ALTER TABLE fraud_prefix_blocks RENAME TO fraud_prefix_blocks_away');
    try {
      const closed = await sendTo(t, inPrefix('+91987654'));
      expect(closed.status).toBe(429);
      expect(closed.body.data).toEqual({ reason: 'FRAUD_SUSPECTED', retry_after: 60 });
      await setGeo(t, 'IN', 'ALLOW');
      expect((await sendTo(t, inPrefix('+91987654'))).status).toBe(200);
    } finally {
      await t.sql('ALTER TABLE fraud_prefix_blocks_away RENAME TO fraud_prefix_blocks');
      await removeGeo(t, 'IN');
    }
    expect((await gqlData(t, ADMIN_LISTS.blockedSends, { reason: 'FAIL_CLOSED' })).blockedSends.totalCount).toBe(1);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/otp_blocked_total\{reason="FAIL_CLOSED"\} 1/);
    expect(metrics).toMatch(/otp_blocked_total\{reason="PREFIX_BLOCKED"\} \d+/);
    expect(metrics).toMatch(/otp_conversion_ratio\{country="IN"\} 0\.\d+/);
  });
});

describe('docs/fraud-guard.md', () => {
  test('every operation of the worked example runs as written', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'fraud-guard.md'), 'utf8');
    const operations = [...doc.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(operations).toHaveLength(3);
    for (const operation of operations) {
      const res = await t.gql(operation);
      expect(res.body.errors).toBeUndefined();
    }
    const lists = (await t.gql(operations[2])).body.data;
    expect(lists.geoPermissions.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ country: 'IT', action: 'BLOCK', origin: 'ADMIN' })]));
    expect(lists.safeList.nodes.map((n: any) => n.value)).toEqual(expect.arrayContaining(['+447911123456', '+4479111']));
  });
});
