import { startTestServer, type TestServer } from '../support/test-server';
import { SEND, VERIFY, restPost } from './otp-helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_numbers', { OTP_WORKER: 'false' }); });
afterAll(() => t.close());

const FORMAT = 'The mobile no field format is invalid.';
const stored = async () => (await t.sql<{ n: number }>('SELECT (SELECT count(*) FROM otp_requests) + (SELECT count(*) FROM otp_deliveries) AS n'))[0].n;

describe('attacker: an impossible number to burn provider credit or pollute the queue', () => {
  test.each([
    ['6123456789', '252'], // too long for Somalia
    ['12345678', '91'], // right length, but no Indian number starts with 1 (the short "min" metadata lets it through)
    ['5551234567', '1'], // 555 is no US area code
  ])('REST: %s with country code %s answers 422 on mobile_no, nothing queued', async (mobile_no, country_code) => {
    const before = await stored();
    const res = await restPost(t, '/api/send-otp', { mobile_no, country_code, channel: 'sms|whatsapp', source: 'numbers', type: 'simple_otp' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ status: false, message: 'Invalid Payload', errors: { mobile_no: [FORMAT] } });
    expect(await stored()).toBe(before);
  });

  test('GraphQL: a userError on mobileNo, reported with the other failing fields', async () => {
    const before = await stored();
    const res = await t.gql(SEND, { input: { mobileNo: '6123456789', countryCode: '252', channels: ['SMS'], source: 'bad source!', type: 'simple_otp' } });
    expect(res.body.data.sendOtp.otpRequest).toBeNull();
    expect(res.body.data.sendOtp.userErrors).toEqual(expect.arrayContaining([
      { field: ['input', 'mobileNo'], code: 'INVALID', message: FORMAT },
      { field: ['input', 'source'], code: 'INVALID', message: 'The source field format is invalid.' },
    ]));
    expect(await stored()).toBe(before);
  });

  test('verify by an impossible number is refused the same way', async () => {
    const rest = await restPost(t, '/api/verify-otp', { mobile_no: '6123456789', country_code: '252', source: 'numbers', code: '1234' });
    expect(rest.status).toBe(422);
    expect(rest.body.errors).toEqual({ mobile_no: [FORMAT] });
    const gql = await t.gql(VERIFY, { input: { mobileNo: '6123456789', countryCode: '252', source: 'numbers', code: '1234' } });
    expect(gql.body.data.verifyOtp.userErrors).toEqual([{ field: ['input', 'mobileNo'], code: 'INVALID', message: FORMAT }]);
  });

  test('real numbers of those countries are sent', async () => {
    for (const [mobile_no, country_code] of [['612345678', '252'], ['7977251637', '91'], ['2015550123', '1']]) {
      const res = await restPost(t, '/api/send-otp', { mobile_no, country_code, channel: 'sms', source: 'numbers', type: 'simple_otp' });
      expect(res.status).toBe(200);
    }
  });
});
