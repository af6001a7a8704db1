import http from 'node:http';
import { closeServer, listenOnLoopback } from './local-server';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './test-server';
import type { Caller } from './api';

type Api = Pick<TestServer, 'gql'>;

/** One request the receiver got, as it arrived. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** The status the receiver answered. */
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** What the receiver answers from now on (default 200). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** A local HTTP receiver standing in for a customer's webhook endpoint. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), answered: status });
      res.statusCode = status;
      res.end(status < 300 ? 'ok' : 'not now');
    });
  });
  const base = await listenOnLoopback(server);
  return {
    url: `${base}/hooks`,
    received,
    answer: (next) => { status = next; },
    close: () => closeServer(server),
  };
}

const ENDPOINT = 'webhookEndpoint { id url eventTypes active disabledReason disabledAt failingSince }';
const USER_ERRORS = 'userErrors { field message code }';

export function createWebhookEndpoint(api: Api, input: Record<string, unknown>, caller: Caller = {}) {
  return api.gql(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { ${ENDPOINT} secret ${USER_ERRORS} } }`, { input }, caller);
}

export function updateWebhookEndpoint(api: Api, id: string, input: Record<string, unknown>, caller: Caller = {}) {
  return api.gql(`mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { ${ENDPOINT} ${USER_ERRORS} } }`, { id, input }, caller);
}

export function replayWebhookDelivery(api: Api, id: string, caller: Caller = {}) {
  return api.gql(`mutation($id: ID!) { replayWebhookDelivery(id: $id) { webhookDelivery { id eventId replayOf status } ${USER_ERRORS} } }`, { id }, caller);
}

export interface DeliveryShape {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastResponseCode: number | null;
  replayOf: string | null;
  attemptLog: Array<{ attempt: number; succeeded: boolean; responseCode: number | null; durationMs: number; error: string | null }>;
}

/** An endpoint with its delivery log (newest first). */
export async function webhookEndpoint(api: Api, id: string): Promise<{ active: boolean; disabledReason: string | null; failingSince: string | null; deliveries: DeliveryShape[] }> {
  const res = await api.gql(`query($id: ID!) { webhookEndpoint(id: $id) { active disabledReason failingSince
    deliveries(first: 100) { nodes { id eventId eventType status attempts lastResponseCode replayOf attemptLog { attempt succeeded responseCode durationMs error } } } } }`, { id });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  const endpoint = res.body.data.webhookEndpoint;
  return { ...endpoint, deliveries: endpoint.deliveries.nodes };
}

/** A graphql-ws client on the server's /graphql, authenticated with `key` in connectionParams (null: none). */
export function subscriptionClient(baseUrl: string, key: string | null): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Subscribed<T> {
  /** Every `next` payload so far (data or errors), in order. */
  results: Array<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  /** Settles when the server completes the subscription or it fails (with the error). */
  ended: Promise<unknown>;
  stop(): void;
}

export function subscribe<T = any>(client: Client, query: string, variables: Record<string, unknown>): Subscribed<T> {
  const results: Subscribed<T>['results'] = [];
  let stop = () => undefined as void;
  const ended = new Promise<unknown>((resolve) => {
    stop = client.subscribe<T>({ query, variables }, {
      next: (value) => { results.push(value as Subscribed<T>['results'][number]); },
      error: (error) => resolve(error),
      complete: () => resolve(null),
    });
  });
  return { results, ended, stop: () => stop() };
}
