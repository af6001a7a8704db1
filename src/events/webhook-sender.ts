import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { isIP } from 'node:net';
import { isPrivateAddress } from './webhook-address';

export interface WebhookSendOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  allowPrivate: boolean;
}

export interface WebhookResponse {
  /** 2xx: delivered. */
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  /** Why it failed, for the delivery log (never the response body). */
  error: string | null;
}

class RefusedAddress extends Error {}

/**
 * POSTs one signed message to the endpoint's configured URL and nothing else: redirects are not followed, the name
 * is resolved here and every resolved address is checked, and so is the address the socket actually connected to
 * (a name that changes its answer between the check and the connection gains nothing). At most `maxResponseBytes`
 * of the answer are read, and the whole exchange ends after `timeoutMs`.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: WebhookSendOptions): Promise<WebhookResponse> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ok: error === null && statusCode !== null && statusCode >= 200 && statusCode < 300, statusCode, durationMs: elapsed(), error });
    };
    const target = new URL(url);
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivate && isIP(literal) && isPrivateAddress(literal)) { // Node connects to IP literals without a lookup
      resolve({ ok: false, statusCode: null, durationMs: elapsed(), error: `Refused: ${literal} is a private or loopback address (set WEBHOOKS_ALLOW_PRIVATE=true to allow).` });
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Countersign-Webhooks/1' },
      lookup: options.allowPrivate ? undefined : publicOnlyLookup,
      agent: false,
    });
    const timer = setTimeout(() => finish(null, `No answer within ${options.timeoutMs} ms.`), options.timeoutMs);
    request.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        const address = socket.remoteAddress ?? '';
        if (!options.allowPrivate && isPrivateAddress(address)) finish(null, `Refused: ${target.hostname} connected to a private or loopback address (set WEBHOOKS_ALLOW_PRIVATE=true to allow).`);
      });
    });
    request.on('response', (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > options.maxResponseBytes) finish(response.statusCode ?? null, null); // the status is all we need; stop reading
      });
      response.on('end', () => finish(response.statusCode ?? null, null));
      response.on('error', () => finish(response.statusCode ?? null, null));
    });
    request.on('error', (error) => {
      finish(null, error instanceof RefusedAddress ? error.message : `Could not reach the endpoint: ${(error as NodeJS.ErrnoException).code ?? error.message}.`);
    });
    request.end(body);
  });
}

/** dns.lookup, refusing names that resolve to a private or loopback address (and such literal addresses). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal)) {
    if (isPrivateAddress(literal)) return callback(new RefusedAddress(`Refused: ${literal} is a private or loopback address (set WEBHOOKS_ALLOW_PRIVATE=true to allow).`), '', 4);
  }
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 4);
    const list = addresses as dns.LookupAddress[];
    const refused = list.find((a) => isPrivateAddress(a.address));
    if (refused || list.length === 0) {
      return callback(new RefusedAddress(`Refused: ${hostname} resolves to ${refused?.address ?? 'nothing'}, a private or loopback address (set WEBHOOKS_ALLOW_PRIVATE=true to allow).`), '', 4);
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};
