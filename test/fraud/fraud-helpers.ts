import type { TestServer } from '../support/test-server';
import { restPost } from '../otp/otp-helpers';

/** One typed helper per fraud-guard operation the tests repeat. */

export const ADMIN_LISTS = {
  prefixBlocks: `query($activeOnly: Boolean) { prefixBlocks(activeOnly: $activeOnly, first: 100) { totalCount nodes { id prefix country level reason sends verified expiresAt liftedAt active } } }`,
  blockedSends: `query($reason: FraudBlockReason) { blockedSends(reason: $reason, first: 100) { totalCount nodes { reason maskedNumber country numberType prefix channels source apiKeyId user { email } createdAt } } }`,
  summary: `query($from: DateTimeISO, $to: DateTimeISO, $first: Int, $after: String) { conversionSummary(from: $from, to: $to, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { country channel source ruleId sends verified blocked monitored conversionRate } } }`,
};

let serial = 0;
/** A number in `prefix` (E.164 without its last four digits) that no other call returns. */
export function inPrefix(prefix: string): string {
  serial += 1;
  return `${prefix}${String(serial % 10000).padStart(4, '0')}`;
}

/** A REST send to an E.164 number (split into country code and national number the way partners send it). */
export function sendTo(t: TestServer, e164: string, extra: Record<string, unknown> = {}, key?: string) {
  const [countryCode, national] = splitE164(e164);
  return restPost(t, '/api/send-otp', { mobile_no: national, country_code: countryCode, channel: 'sms', source: 'fraud_test', type: 'simple_otp', ...extra }, key ?? t.adminKey);
}

export function verify(t: TestServer, otpRequestId: string, code: string, key?: string) {
  return restPost(t, '/api/verify-otp', { otp_request_id: otpRequestId, code }, key ?? t.adminKey);
}

/** `+447911123456` → ['44', '7911123456'] for the calling codes the tests use. */
export function splitE164(e164: string): [string, string] {
  const code = ['91', '44', '34', '33', '39', '49', '1'].find((c) => e164.startsWith(`+${c}`))!;
  return [code, e164.slice(code.length + 1)];
}

export async function gqlData(t: TestServer, query: string, variables?: Record<string, unknown>, key?: string) {
  const res = await t.gql(query, variables, key ? { key } : {});
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data;
}

export async function setGeo(t: TestServer, country: string, action: string) {
  return (await gqlData(t, `mutation($c: String!, $a: GeoAction!) { setGeoPermission(country: $c, action: $a) { geoPermission { country action origin } userErrors { field code message } } }`,
    { c: country, a: action })).setGeoPermission;
}

export async function removeGeo(t: TestServer, country: string) {
  return (await gqlData(t, `mutation($c: String!) { removeGeoPermission(country: $c) { geoPermission { country action origin } userErrors { field code message } } }`, { c: country })).removeGeoPermission;
}

export async function addSafe(t: TestServer, kind: 'NUMBER' | 'PREFIX', value: string, note?: string) {
  return (await gqlData(t, `mutation($i: SafeListEntryInput!) { addSafeListEntry(input: $i) { safeListEntry { id kind value note } userErrors { field code message } } }`,
    { i: { kind, value, note } })).addSafeListEntry;
}

export async function unblock(t: TestServer, prefix: string) {
  return (await gqlData(t, `mutation($p: String!) { unblockPrefix(prefix: $p) { prefixBlock { prefix active liftedAt } userErrors { field code message } } }`, { p: prefix })).unblockPrefix;
}
