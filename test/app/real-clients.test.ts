import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { EXAMPLE_OPERATIONS } from '../../src/app/explorer-examples';
import { createRecord } from '../support/api';
import { startWebhookReceiver, type WebhookReceiver } from '../support/events';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';

// A frontend developer copies the explorer's (and so the README's) example operations into an Apollo Client app and
// runs them, in the order the tabs show them, against a real server. `<…>` placeholders in the variables are
// replaced by what an earlier answer gave, as the explorer asks a person to do. OTP_TEST_RECIPIENTS fixes the codes
// of the two example numbers, so "Verify an OTP" runs exactly as shown.
const CONTACT_CODE = '482913';
let t: TestServer;
let client: ApolloClient;
/** Subscriptions go over graphql-ws (Apollo's GraphQLWsLink), with the key in connectionParams. */
let subscriber: ApolloClient;
let wsClient: ReturnType<typeof createClient>;
let receiver: WebhookReceiver;
let organizationId: string;
const scene = new Map<string, string>();

beforeAll(async () => {
  t = await startTestServer('real_clients', {
    OTP_TEST_RECIPIENTS: `+917977251637:1234,+919876543210:${CONTACT_CODE}`, WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50',
  });
  receiver = await startWebhookReceiver();
  scene.set('<your receiver URL, e.g. https…/hooks>', receiver.url);
  organizationId = (await createRecord(t, 'Organizations', { name: 'Acme' })).id;
  scene.set('<organization id>', organizationId);
  scene.set('<code>', CONTACT_CODE);
  client = new ApolloClient({
    link: new HttpLink({ uri: t.app.graphqlUrl, headers: { authorization: `Bearer ${t.adminKey}` }, fetch }),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'no-cache' }, mutate: { fetchPolicy: 'no-cache' } },
  });
  wsClient = createClient({ url: `${t.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${t.adminKey}` } });
  subscriber = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
});
afterAll(async () => {
  client?.stop();
  subscriber?.stop();
  await wsClient?.dispose();
  await receiver?.close();
  await t?.close();
});

interface ExampleRun { name: string; kind: 'query' | 'mutation' | 'subscription'; document: DocumentNode; variables: Record<string, unknown> }

/** Every named operation of every example, in tab order (a tab may hold two, e.g. send a rule OTP, then save). */
const RUNS: ExampleRun[] = EXAMPLE_OPERATIONS.flatMap((example) => parse(example.query).definitions
  .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  .map((operation) => {
    const declared = new Set(operation.variableDefinitions?.map((v) => v.variable.name.value));
    const variables = Object.fromEntries(Object.entries(example.variables ?? {}).filter(([name]) => declared.has(name)));
    return { name: operation.name!.value, kind: operation.operation, document: { kind: Kind.DOCUMENT, definitions: [operation] }, variables };
  }));

function filledIn(value: unknown): unknown {
  if (typeof value === 'string' && /^<.+>$/.test(value)) {
    if (!scene.has(value)) throw new Error(`no earlier answer gave ${value}`);
    return scene.get(value);
  }
  if (Array.isArray(value)) return value.map(filledIn);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filledIn(v)]));
  return value;
}

async function run({ kind, document, variables }: ExampleRun): Promise<any> {
  const filled = filledIn(variables) as Record<string, unknown>;
  if (kind === 'subscription') return firstAnswer(document, filled);
  const result = kind === 'query'
    ? await client.query({ query: document, variables: filled })
    : await client.mutate({ mutation: document, variables: filled });
  return result.data;
}

/** A subscription's first answer (the subject as it is now), then unsubscribed. */
function firstAnswer(document: DocumentNode, variables: Record<string, unknown>): Promise<any> {
  return new Promise((resolve, reject) => {
    const subscription = subscriber.subscribe({ query: document, variables }).subscribe({
      next: (result) => { subscription.unsubscribe(); if (result.error) reject(result.error); else resolve(result.data); },
      error: reject,
    });
  });
}

const noUserErrors = { userErrors: [] };

/** What each example must answer: fields checked, not just "no error". */
const CHECKS: Record<string, (data: any) => Promise<void> | void> = {
  ModulesAndMe(data) {
    expect(data.me).toMatchObject({ email: 'admin@countersign.local', role: 'ADMIN' });
    expect(data.modules.map((m: { name: string }) => m.name)).toEqual(['Leads', 'Contacts', 'Organizations', 'Vendors', 'Deals', 'Cases', 'Invoices']);
    const contacts = data.modules.find((m: { name: string }) => m.name === 'Contacts');
    expect(contacts.fields).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'lastName', mandatory: true, type: 'TEXT' })]));
    expect(contacts.closedStates).toMatchObject({ field: 'contactStatus', values: ['Inactive'] });
  },
  CreateContact(data) {
    expect(data.createRecord).toMatchObject({ ...noUserErrors, record: { label: 'Asha Rao', version: 1, fields: { firstName: 'Asha', lastName: 'Rao', mobile: '+919876543210' } } });
    scene.set('<record id>', data.createRecord.record.id);
    scene.set('<contact id>', data.createRecord.record.id);
  },
  Contacts(data) {
    expect(data.records.totalCount).toBe(1);
    expect(data.records.nodes).toEqual([expect.objectContaining({ id: scene.get('<contact id>'), label: 'Asha Rao', version: 1, owner: expect.objectContaining({ email: 'admin@countersign.local' }) })]);
    expect(data.records.pageInfo).toMatchObject({ hasNextPage: false });
  },
  UpdateContact(data) {
    expect(data.updateRecord).toMatchObject({ ...noUserErrors, record: { id: scene.get('<record id>'), version: 2, fields: { title: 'CTO', lastName: 'Rao' } } });
  },
  DefineConnectionType(data) {
    expect(data.createConnectionType).toMatchObject({
      ...noUserErrors,
      connectionType: { name: 'supplies', inverseName: 'is supplied by', symmetric: false, sourceModules: ['Vendors'], targetModules: ['Organizations'] },
    });
    expect(data.createConnectionType.connectionType.properties.map((p: { key: string }) => p.key)).toEqual(['category', 'contractValue']);
  },
  Connect(data) {
    expect(data.createConnection).toMatchObject({
      ...noUserErrors,
      connection: { status: 'ACTIVE', startDate: '2024-04-01', type: { name: 'is working at' }, source: { label: 'Asha Rao' }, target: { label: 'Acme' } },
    });
    scene.set('<connection id>', data.createConnection.connection.id);
  },
  RecordConnections(data) {
    expect(data.record.label).toBe('Asha Rao');
    expect(data.record.connections.totalCount).toBe(1);
    expect(data.record.connections.nodes[0]).toMatchObject({ label: 'is working at', status: 'ACTIVE', type: { name: 'is working at' }, otherRecord: { id: organizationId, module: 'Organizations', label: 'Acme' } });
  },
  IntegrityReport(data) {
    expect(data.connectionIntegrityReport).toMatchObject({ totalCount: 0, nodes: [] });
  },
  Repair(data) {
    expect(data.repairConnections).toMatchObject({ dryRun: true, appliedCount: 0 });
    expect(data.repairConnections.results).toEqual([expect.objectContaining({ connectionId: scene.get('<connection id>'), applied: false })]);
  },
  SendOtp(data) {
    expect(data.sendOtp).toMatchObject({ ...noUserErrors, otpRequest: { channels: ['SMS'], status: 'PENDING', maskedMobileNo: expect.stringMatching(/1637$/) } });
    expect(data.sendOtp.otpRequest.maskedMobileNo).not.toContain('7977251637');
    scene.set('<otp request id>', data.sendOtp.otpRequest.id);
  },
  VerifyOtp(data) {
    expect(data.verifyOtp).toMatchObject({ ...noUserErrors, verified: true, otpRequest: { id: scene.get('<otp request id>'), status: 'VERIFIED' } });
  },
  FallbackSend(data) {
    // +917977251637 is a test recipient here (fixed code, nothing delivered): the steps are checked in test/otp/otp-fallback.test.ts
    expect(data.sendOtp).toMatchObject({ ...noUserErrors, otpRequest: { channels: ['WHATSAPP', 'SMS', 'EMAIL'], status: 'PENDING' } });
  },
  async OtpRequests(data) {
    const [{ pending }] = await t.sql("SELECT count(*)::int AS pending FROM otp_requests WHERE status = 'PENDING'");
    expect(data.otpRequests.totalCount).toBe(pending);
    expect(data.otpRequests.nodes.every((n: { status: string }) => n.status === 'PENDING')).toBe(true);
    expect(data.otpRequests.nodes.map((n: { id: string }) => n.id)).not.toContain(scene.get('<otp request id>')); // verified
  },
  DefineRule(data) {
    // the example's next tab says `ruleId: 1`: on a fresh server the first rule is rule 1
    expect(data.createOtpRule).toMatchObject({ ...noUserErrors, otpRule: { id: 1, name: 'Deactivate contact', sanitizedName: 'Deactivatecontact' } });
    expect(data.createOtpRule.otpRule.acceptedKeys).toEqual(expect.arrayContaining(['otp: [{ rule: "1", code }]', 'fields.OTPRULES_OTP_1', 'header OTPRULES-OTP-1']));
  },
  SendRuleOtp(data) {
    expect(data.sendRuleOtp).toMatchObject({ ...noUserErrors, otpRequest: { rule: { name: 'Deactivate contact' }, maskedMobileNo: expect.stringMatching(/3210$/) } });
  },
  GuardedUpdate(data) {
    expect(data.updateRecord).toMatchObject({ ...noUserErrors, record: { id: scene.get('<contact id>'), version: 3, fields: { contactStatus: 'Inactive' } } });
  },
  async CreateWebhookEndpoint(data) {
    expect(data.createWebhookEndpoint).toMatchObject({ ...noUserErrors, webhookEndpoint: { url: receiver.url, active: true }, secret: expect.stringMatching(/^whsec_/) });
    scene.set('<endpoint id>', data.createWebhookEndpoint.webhookEndpoint.id);
    // something to deliver: an OTP sent after the endpoint exists
    await t.gql('mutation { sendOtp(input: { mobileNo: "7977251637", channels: [SMS], source: "webhook_example", type: "simple_otp" }) { userErrors { message } } }');
    await until('a delivered webhook', () => receiver.received.length > 0, 20_000);
  },
  async WebhookDeliveries(data) {
    expect(data.webhookEndpoint.active).toBe(true);
    const delivered = data.webhookEndpoint.deliveries.nodes.find((d: { status: string }) => d.status === 'SUCCEEDED');
    expect(delivered).toMatchObject({ eventType: 'otp.sent', attempts: 1, lastResponseCode: 200, attemptLog: [expect.objectContaining({ attempt: 1, succeeded: true, responseCode: 200 })] });
    scene.set('<delivery id>', delivered.id);
  },
  Replay(data) {
    expect(data.replayWebhookDelivery).toMatchObject({ ...noUserErrors, webhookDelivery: { status: 'PENDING', replayOf: scene.get('<delivery id>') } });
  },
  OtpRequestUpdated(data) {
    expect(data.otpRequestUpdated).toMatchObject({ id: scene.get('<otp request id>'), status: 'VERIFIED', attempts: 0 });
  },
  FraudToday(data) {
    // the sends above: SendOtp and SendRuleOtp were to test recipients (never screened or counted); nothing refused
    expect(data.conversionSummary.nodes).toEqual([]);
    expect(data.prefixBlocks.nodes).toEqual([]);
    expect(data.blockedSends).toMatchObject({ totalCount: 0, nodes: [] });
  },
  FraudAct(data) {
    expect(data.setGeoPermission).toMatchObject({ ...noUserErrors, geoPermission: { country: 'IT', action: 'BLOCK', origin: 'ADMIN' } });
    expect(data.addSafeListEntry).toMatchObject({ ...noUserErrors, safeListEntry: { value: '+447911123456' } });
  },
  CreateWithConnections(data) {
    expect(data.createRecord).toMatchObject({ ...noUserErrors, record: { label: 'Asha Rao' } });
    scene.set('<duplicate id>', data.createRecord.record.id);
  },
  MergeRecords(data) {
    // the duplicate's "is working at Acme" overlaps the survivor's (Connect above): it folds into it
    expect(data.mergeRecords).toMatchObject({
      ...noUserErrors,
      record: { id: scene.get('<contact id>'), fields: { email: 'asha@acme.example', contactStatus: 'Inactive' } },
      mergedIds: [scene.get('<duplicate id>')],
      connections: [expect.objectContaining({ outcome: 'FOLDED', intoConnectionId: scene.get('<connection id>') })],
    });
  },
};

test('every example operation has a check, and every check an example', () => {
  expect(Object.keys(CHECKS).sort()).toEqual(RUNS.map((r) => r.name).sort());
});

describe('a frontend with Apollo Client (HttpLink, fetch) runs every example of the explorer and the README, in tab order', () => {
  for (const example of RUNS) {
    test(`${example.kind} ${example.name}`, async () => {
      await CHECKS[example.name](await run(example));
    });
  }
});
