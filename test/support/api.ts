import type { TestServer } from './test-server';

/**
 * One typed helper per GraphQL operation the tests repeat, so a schema change is fixed here and not in every test.
 * `createX` throws unless X was created (for setting a scene); `tryCreateX` and the others return the payload as the
 * API answered it, for tests that look at `userErrors`. A top-level GraphQL error always throws.
 */

type Api = Pick<TestServer, 'gql'>;

/** Who calls: an API key (default: the admin's; null: no Authorization header) and extra request headers. */
export interface Caller {
  key?: string | null;
  headers?: Record<string, string>;
}

export interface UserErrorShape {
  field: string[] | null;
  message: string;
  code: string;
  details: Record<string, any> | null;
}

const USER_ERRORS = 'userErrors { field message code details }';

async function mutate<T>(api: Api, name: string, document: string, variables: Record<string, unknown>, caller: Caller = {}): Promise<T> {
  const res = await api.gql(document, variables, caller);
  if (res.body.errors || !res.body.data?.[name]) throw new Error(`${name} answered ${res.status}: ${JSON.stringify(res.body.errors ?? res.body)}`);
  return res.body.data[name];
}

function created<T>(name: string, payload: { userErrors: UserErrorShape[] }, value: T | null): T {
  if (!value || payload.userErrors.length) throw new Error(`${name} refused: ${JSON.stringify(payload.userErrors)}`);
  return value;
}

// Records

export interface RecordShape {
  id: string;
  module: string;
  label: string;
  version: number;
  fields: Record<string, any>;
}

export interface RecordPayload {
  record: RecordShape | null;
  userErrors: UserErrorShape[];
}

const RECORD = 'record { id module label version fields }';

export function tryCreateRecord(api: Api, module: string, fields: Record<string, unknown>, caller?: Caller): Promise<RecordPayload> {
  return mutate(api, 'createRecord', `mutation($module: String!, $fields: JSONObject!) {
    createRecord(module: $module, fields: $fields) { ${RECORD} ${USER_ERRORS} } }`, { module, fields }, caller);
}

export async function createRecord(api: Api, module: string, fields: Record<string, unknown>, caller?: Caller): Promise<RecordShape> {
  const payload = await tryCreateRecord(api, module, fields, caller);
  return created('createRecord', payload, payload.record);
}

export interface RuleOtpInput {
  rule: string;
  code: string;
}

export function updateRecord(api: Api, id: string, fields: Record<string, unknown>,
  options: Caller & { otp?: RuleOtpInput[]; expectedVersion?: number } = {}): Promise<RecordPayload> {
  return mutate(api, 'updateRecord', `mutation($id: ID!, $fields: JSONObject!, $otp: [OtpInput!], $expectedVersion: Int) {
    updateRecord(id: $id, fields: $fields, otp: $otp, expectedVersion: $expectedVersion) { ${RECORD} ${USER_ERRORS} } }`,
  { id, fields, otp: options.otp, expectedVersion: options.expectedVersion }, options);
}

// OTP rules

export interface OtpRuleShape {
  id: number;
  name: string;
  sanitizedName: string;
}

export interface OtpRulePayload {
  otpRule: OtpRuleShape | null;
  userErrors: UserErrorShape[];
}

export function tryCreateOtpRule(api: Api, input: Record<string, unknown>, caller?: Caller): Promise<OtpRulePayload> {
  return mutate(api, 'createOtpRule', `mutation($input: OtpRuleInput!) {
    createOtpRule(input: $input) { otpRule { id name sanitizedName } ${USER_ERRORS} } }`, { input }, caller);
}

export async function createOtpRule(api: Api, input: Record<string, unknown>, caller?: Caller): Promise<OtpRuleShape> {
  const payload = await tryCreateOtpRule(api, input, caller);
  return created('createOtpRule', payload, payload.otpRule);
}

export function updateOtpRule(api: Api, id: number, input: Record<string, unknown>, caller?: Caller): Promise<OtpRulePayload> {
  return mutate(api, 'updateOtpRule', `mutation($id: Int!, $input: OtpRuleInput!) {
    updateOtpRule(id: $id, input: $input) { otpRule { id name sanitizedName } ${USER_ERRORS} } }`, { id, input }, caller);
}

// OTPs

export interface OtpRequestShape {
  id: string;
  status: string;
  channels: string[];
  source: string;
  maskedMobileNo: string | null;
  maskedEmail: string | null;
  expiresAt: string;
  maxAttempts: number;
  sendCount: number;
}

export interface OtpRequestPayload {
  otpRequest: OtpRequestShape | null;
  userErrors: UserErrorShape[];
}

const OTP_REQUEST = 'otpRequest { id status channels source maskedMobileNo maskedEmail expiresAt maxAttempts sendCount }';

export function sendOtp(api: Api, input: Record<string, unknown>, caller?: Caller): Promise<OtpRequestPayload> {
  return mutate(api, 'sendOtp', `mutation($input: SendOtpInput!) { sendOtp(input: $input) { ${OTP_REQUEST} ${USER_ERRORS} } }`, { input }, caller);
}

export function sendRuleOtp(api: Api, ruleId: number, recordId: string,
  options: Caller & { intendedFields?: Record<string, unknown> } = {}): Promise<OtpRequestPayload> {
  return mutate(api, 'sendRuleOtp', `mutation($ruleId: Int!, $recordId: ID!, $intendedFields: JSONObject) {
    sendRuleOtp(ruleId: $ruleId, recordId: $recordId, intendedFields: $intendedFields) { ${OTP_REQUEST} ${USER_ERRORS} } }`,
  { ruleId, recordId, intendedFields: options.intendedFields }, options);
}

// Connections

export interface ConnectionShape {
  id: string;
  status: string;
  type: { id: string; name: string };
  source: { id: string; label: string };
  target: { id: string; label: string };
  properties: Record<string, any>;
}

export interface ConnectionPayload {
  connection: ConnectionShape | null;
  userErrors: UserErrorShape[];
}

export function createConnection(api: Api, input: Record<string, unknown>, caller?: Caller): Promise<ConnectionPayload> {
  return mutate(api, 'createConnection', `mutation($input: CreateConnectionInput!) {
    createConnection(input: $input) { connection { id status properties type { id name } source { id label } target { id label } } ${USER_ERRORS} } }`,
  { input }, caller);
}

// Admin lists (XPage): otpRules, users, apiKeys, messageTemplates, connectionTypes

export interface PageShape<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** One page of a list query; `selection` is what to read of each node. Throws on a top-level error. */
export async function listPage<T = any>(api: Api, list: string, selection: string,
  args: { filter?: Record<string, unknown> | null; first?: number; after?: string | null } = {}, caller: Caller = {}): Promise<PageShape<T>> {
  const filterType = `${list[0].toUpperCase()}${list.slice(1).replace(/s$/, '')}FilterInput`;
  const res = await api.gql(`query($filter: ${filterType}, $first: Int!, $after: String) {
    ${list}(filter: $filter, first: $first, after: $after) { nodes { ${selection} } pageInfo { hasNextPage endCursor } totalCount } }`,
  { filter: args.filter ?? null, first: args.first ?? 100, after: args.after ?? null }, caller);
  if (res.body.errors || !res.body.data?.[list]) throw new Error(`${list} answered ${res.status}: ${JSON.stringify(res.body.errors ?? res.body)}`);
  return res.body.data[list];
}

/** Every node of a list, page after page. */
export async function listAll<T = any>(api: Api, list: string, selection: string, filter?: Record<string, unknown> | null, caller: Caller = {}): Promise<T[]> {
  const all: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page: PageShape<T> = await listPage<T>(api, list, selection, { filter, after }, caller);
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
}
