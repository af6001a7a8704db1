import { assertConformsToOpenApi } from '../support/openapi-conformance';
import type { TestServer } from '../support/test-server';

type Api = Pick<TestServer, 'gql' | 'url'>;

export const SEND_OTP = `mutation($input: SendOtpInput!, $key: String) {
  sendOtp(input: $input, idempotencyKey: $key) { otpRequest { id status } userErrors { field message code } } }`;

export const CREATE_RECORD = `mutation($module: String!, $fields: JSONObject!, $key: String) {
  createRecord(module: $module, fields: $fields, idempotencyKey: $key) { record { id label } userErrors { field message code } } }`;

export const CREATE_CONNECTION = `mutation($input: CreateConnectionInput!, $key: String) {
  createConnection(input: $input, idempotencyKey: $key) { connection { id } userErrors { field message code } } }`;

export const SEND_RULE_OTP = `mutation($ruleId: Int!, $recordId: ID!, $key: String) {
  sendRuleOtp(ruleId: $ruleId, recordId: $recordId, idempotencyKey: $key) { otpRequest { id } userErrors { field message code } } }`;

/** One GraphQL answer reduced to what these tests compare: the created object's id, or the error codes. */
export interface Outcome {
  id: string | null;
  userErrors: string[];
  errors: Array<{ code: string; argumentName?: string; retryAfterSeconds?: number; message: string }>;
}

/** Runs one mutation whose payload holds `field` (an object with an id) and reduces the answer to an {@link Outcome}. */
export async function idempotent(api: Api, document: string, name: string, field: string, variables: Record<string, unknown>, key?: string): Promise<Outcome> {
  const res = await api.gql(document, variables, key === undefined ? {} : { key });
  const payload = res.body.data?.[name];
  return {
    id: payload?.[field]?.id ?? null,
    userErrors: (payload?.userErrors ?? []).map((e: { code: string }) => e.code),
    errors: (res.body.errors ?? []).map((e: { message: string; extensions: Record<string, any> }) => ({ message: e.message, ...e.extensions })),
  };
}

/** POST /api/send-otp with an Idempotency-Key header as written (undefined: no header); the answer is checked against openapi.json. */
export async function restSend(api: Api, body: Record<string, unknown>, idempotencyKey: string | undefined, bearer: string) {
  const response = await fetch(`${api.url}/api/send-otp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const answer = { status: response.status, retryAfter: response.headers.get('retry-after'), text, body: JSON.parse(text) as any };
  assertConformsToOpenApi('POST', '/api/send-otp', answer.status, answer.body);
  return answer;
}
