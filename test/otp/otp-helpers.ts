import type { TestServer } from '../support/test-server';
import { until } from '../support/poll';

export { restGet, restPost } from '../support/rest';

export const SEND = `mutation($input: SendOtpInput!) {
  sendOtp(input: $input) {
    otpRequest { id channels maskedMobileNo maskedEmail source type codeLength codeType codeCallerSupplied status expiresAt attempts maxAttempts sendCount
                 deliveries { channel status provider providerMessageId error attempts } }
    userErrors { field message code }
  }
}`;

export const VERIFY = `mutation($input: VerifyOtpInput!) {
  verifyOtp(input: $input) { verified attemptsLeft otpRequest { id status verifiedAt } userErrors { field message code } }
}`;

export const RESEND = `mutation($id: ID!, $channels: [OtpChannel!]) {
  resendOtp(otpRequestId: $id, channels: $channels) { otpRequest { id sendCount status expiresAt } userErrors { field message code } }
}`;

export const CANCEL = `mutation($id: ID!) { cancelOtp(otpRequestId: $id) { otpRequest { id status } userErrors { field message code } } }`;

export const GET = `query($id: ID!) {
  otpRequest(id: $id) { id status attempts sendCount maskedMobileNo record { id label }
                        deliveries { channel status provider providerMessageId error attempts sentAt deliveredAt failedAt } }
}`;

let counter = 0;
/**
 * A fresh 10-digit mobile number, so per-recipient limits of one test never touch another; each in a prefix (the number
 * without its last four digits) of its own, so a test sending many never looks like a bot to the fraud guard.
 */
export function freshMobile(): string {
  counter += 1;
  return `9${String((Date.now() + counter * 7919) % 1e5).padStart(5, '0')}${String(counter % 1e4).padStart(4, '0')}`;
}

export async function sendSms(t: TestServer, extra: Record<string, unknown> = {}, key?: string) {
  const res = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'test_suite', type: 'simple_otp', ...extra } }, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.sendOtp;
}

/** Polls the database (bounded) until `predicate` holds for the rows `sql` returns. */
export async function waitForRows<T = any>(t: TestServer, sql: string, params: unknown[], predicate: (rows: T[]) => boolean, timeoutMs = 20000): Promise<T[]> {
  let last: T[] = [];
  try {
    return await until(sql, async () => { last = await t.sql<T>(sql, params); return predicate(last) && last; }, timeoutMs);
  } catch {
    throw new Error(`Timed out waiting on: ${sql} → ${JSON.stringify(last)}`);
  }
}

