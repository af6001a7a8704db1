import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { isPrivateAddress, urlProblem } from './webhook-address';
import { GIVE_UP_AFTER_MS, retryAt } from './webhook-dispatcher';
import { postWebhook } from './webhook-sender';
import { signWebhook, WebhookSecrets } from './webhook-secrets';

let server: http.Server;
let base: string;
let behaviour: (res: http.ServerResponse) => void = (res) => res.end('ok');
let hits = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on('end', () => behaviour(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const open = { timeoutMs: 2000, maxResponseBytes: 1024, allowPrivate: true };
const guarded = { ...open, allowPrivate: false };

describe('an endpoint URL pointing inside the network (SSRF)', () => {
  test.each([
    ['a loopback literal', () => `${base}/x`],
    ['localhost, refused after DNS resolution', () => base.replace('127.0.0.1', 'localhost') + '/x'],
    ['an IPv6 loopback literal', () => 'http://[::1]:9/x'],
    ['an IPv4-mapped IPv6 loopback', () => 'http://[::ffff:127.0.0.1]:9/x'],
    ['a private 10/8 address', () => 'http://10.1.2.3:9/x'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data'],
  ])('%s is refused without a request, unless WEBHOOKS_ALLOW_PRIVATE', async (_what, url) => {
    const before = hits;
    const answer = await postWebhook(url(), {}, '{}', guarded);
    expect(answer).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/^Refused: .*private or loopback/) });
    expect(hits).toBe(before);
  });

  test('allowed when WEBHOOKS_ALLOW_PRIVATE=true', async () => {
    behaviour = (res) => res.end('ok');
    expect(await postWebhook(`${base}/x`, {}, '{}', open)).toMatchObject({ ok: true, statusCode: 200, error: null });
  });

  test('address checks cover the ranges and accept public addresses', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    expect(isPrivateAddress('not-an-ip')).toBe(true);
  });

  test('only http(s) URLs without credentials are accepted', () => {
    expect(urlProblem('https://example.com/hooks')).toBeNull();
    expect(urlProblem('file:///etc/passwd')).toMatch(/https/);
    expect(urlProblem('gopher://example.com')).toMatch(/https/);
    expect(urlProblem('https://a:b@example.com')).toMatch(/password/);
    expect(urlProblem('not a url')).toMatch(/not valid/);
  });
});

describe('an endpoint that misbehaves', () => {
  test('a redirect is not followed: it is a failed attempt', async () => {
    behaviour = (res) => { res.statusCode = 302; res.setHeader('location', 'http://169.254.169.254/'); res.end(); };
    expect(await postWebhook(`${base}/x`, {}, '{}', open)).toMatchObject({ ok: false, statusCode: 302 });
  });

  test('an answer that never comes ends at the timeout', async () => {
    behaviour = () => undefined; // never answers
    const answer = await postWebhook(`${base}/x`, {}, '{}', { ...open, timeoutMs: 200 });
    expect(answer).toMatchObject({ ok: false, statusCode: null, error: 'No answer within 200 ms.' });
    expect(answer.durationMs).toBeGreaterThanOrEqual(190);
    expect(answer.durationMs).toBeLessThan(2000);
  });

  test('an endless answer is cut at the response-size cap, its status kept', async () => {
    behaviour = (res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 97);
      const pump = () => { while (res.write(chunk)) { /* fill */ } };
      res.on('drain', pump);
      pump();
    };
    const answer = await postWebhook(`${base}/x`, {}, '{}', { ...open, maxResponseBytes: 1000 });
    expect(answer).toMatchObject({ ok: true, statusCode: 200, error: null });
  });
});

describe('signatures and secrets', () => {
  test('our signature verifies with the standardwebhooks package, and the secret survives sealing', () => {
    const secrets = new WebhookSecrets('k'.repeat(64));
    const secret = secrets.generate();
    const sealed = secrets.seal(secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(secrets.unseal(sealed)).toBe(secret);
    expect(() => new WebhookSecrets('other'.repeat(10)).unseal(sealed)).toThrow();
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'otp.sent', timestamp: new Date().toISOString(), data: { otpRequestId: 'x' } });
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(now), 'webhook-signature': signWebhook(secret, 'msg_1', now, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });
});

describe('retries', () => {
  test('back off per the schedule and stop 24 hours after the event, the last one at the deadline', () => {
    const createdAt = new Date('2026-01-01T00:00:00Z');
    const after = (attempts: number, nowMs: number) => retryAt({ attempts, createdAt }, new Date(createdAt.getTime() + nowMs))?.getTime();
    expect(after(0, 0)).toBe(createdAt.getTime() + 5_000);
    expect(after(1, 5_000)).toBe(createdAt.getTime() + 5_000 + 300_000);
    expect(after(6, 20 * 3600_000)).toBe(createdAt.getTime() + GIVE_UP_AFTER_MS);
    expect(after(7, GIVE_UP_AFTER_MS)).toBeUndefined();
  });
});
