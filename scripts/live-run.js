// The README's examples run by a person against a live server (`npm start` in a fresh private clone):
// a webhook endpoint created in the explorer and a local receiver verifying every delivery with `standardwebhooks`,
// a fallback send run from the explorer's "A fallback send" tab, a subscription in the explorer's
// "Subscribe to an OTP request" tab watching it, the SMS step going out after its wait, and a verify.
// Usage: `npm run examples:live [-- <port>]` in a checkout after `npm ci` (Chromium at /usr/bin/chromium; the server's
// output goes to server.log, a screenshot of the explorer to live-run.png). It starts `npm start` (the embedded
// Postgres when no DATABASE_URL is set) with WEBHOOKS_ALLOW_PRIVATE=true, so the endpoint may be this script's own
// loopback receiver, and stops it at the end. Exits non-zero when a step does not happen.
const { spawn } = require('node:child_process');
const http = require('node:http');
const fs = require('node:fs');
const { chromium } = require('playwright-core');
const { Webhook } = require('standardwebhooks');

const port = Number(process.argv[2] || 4100);
const base = `http://127.0.0.1:${port}`;
const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);
const received = [];

async function main() {
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => { received.push({ headers: req.headers, body }); res.writeHead(204).end(); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hooks`;

  const out = fs.openSync('server.log', 'w');
  const server = spawn('npm', ['start'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WEBHOOKS_ALLOW_PRIVATE: 'true' }, stdio: ['ignore', out, out], detached: true });
  let adminKey = null;
  for (let i = 0; i < 240 && !adminKey; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    adminKey = /Admin API key \(shown once; store it now\): (\S+)/.exec(fs.readFileSync('server.log', 'utf8'))?.[1] ?? null;
  }
  if (!adminKey) throw new Error('no admin key in server.log');
  log('server up, admin key printed once');

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-background-networking'] });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/graphql`);
  await page.locator('#key-form').waitFor({ state: 'visible', timeout: 30000 });
  log('explorer asks for a key first');
  await page.fill('#api-key', adminKey);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });

  const openTab = async (operationName) => {
    await page.locator('.graphiql-tab', { hasText: operationName }).first().click();
    await page.locator('.graphiql-tab-active', { hasText: operationName }).waitFor({ timeout: 10000 });
  };
  const setVariables = async (json) => {
    await page.locator('.graphiql-editor-tool .graphiql-editor .CodeMirror').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify(json));
  };
  const runAndRead = async (operationName, expectText) => {
    // put the cursor inside the operation, so GraphiQL runs that one of the tab's operations
    await page.locator('.graphiql-query-editor .CodeMirror-line', { hasText: operationName }).first().click();
    await page.keyboard.press('Control+Enter');
    const result = page.locator('.result-window');
    await result.getByText(expectText).first().waitFor({ timeout: 30000 });
    return JSON.parse(await page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()));
  };

  // 1. the webhook endpoint, from its tab
  await openTab('CreateWebhookEndpoint');
  await setVariables({ input: { url: receiverUrl } });
  const created = await runAndRead('mutation CreateWebhookEndpoint', 'whsec_');
  const endpoint = created.data.createWebhookEndpoint;
  log('webhook endpoint created', endpoint.webhookEndpoint.id, 'secret shown once:', endpoint.secret.slice(0, 10) + '…');

  // 2. the fallback send, from its tab (WhatsApp now, SMS after 30 s; no email step so the run stays short)
  await openTab('FallbackSend');
  await setVariables({ input: { mobileNo: '7977251637', source: 'live-run', type: 'simple_otp', workflow: [{ channel: 'WHATSAPP' }, { channel: 'SMS', waitSeconds: 30 }] } });
  const sent = await runAndRead('mutation FallbackSend', 'SCHEDULED');
  const otp = sent.data.sendOtp.otpRequest;
  log('fallback send:', JSON.stringify(otp.deliveries));

  // 3. the subscription, from its tab, watching that OTP
  await openTab('OtpRequestUpdated');
  await setVariables({ id: otp.id });
  await page.locator('.graphiql-query-editor .CodeMirror-line', { hasText: 'subscription OtpRequestUpdated' }).first().click();
  await page.keyboard.press('Control+Enter');
  const result = page.locator('.result-window');
  await result.getByText('"PENDING"').first().waitFor({ timeout: 30000 });
  log('subscription answered at once: PENDING');
  await result.getByText('"SMS"').first().waitFor({ timeout: 30000 });
  // wait for the SMS step to go out (30 s after the WhatsApp step)
  for (let i = 0; i < 90; i += 1) {
    const text = await page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue());
    const state = JSON.parse(text).data?.otpRequestUpdated;
    if (state && state.deliveries.find((d) => d.channel === 'SMS')?.status === 'SENT') { log('subscription shows the SMS step SENT:', JSON.stringify(state.deliveries.map((d) => [d.channel, d.status]))); break; }
    await new Promise((r) => setTimeout(r, 1000));
  }
  // the code, from the `log` provider's line (development providers print the message)
  const messages = fs.readFileSync('server.log', 'utf8').split('\n').filter((l) => l.includes('OTP message (log provider)'));
  const codes = messages.map((l) => /\b(\d{4,8})\b/.exec(JSON.parse(l).otpMessage.text)?.[1]);
  log('messages sent:', messages.length, 'same code on both steps:', new Set(codes).size === 1);
  const verified = await fetch(`${base}/api/verify-otp`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` }, body: JSON.stringify({ otp_request_id: otp.id, code: codes[codes.length - 1] }) });
  log('REST verify:', verified.status, JSON.stringify(await verified.json()));
  await result.getByText('"VERIFIED"').first().waitFor({ timeout: 30000 });
  log('subscription shows VERIFIED');

  // 4. the receiver got every event of the run, each signed
  for (let i = 0; i < 60 && !received.some((r) => JSON.parse(r.body).type === 'otp.verified'); i += 1) await new Promise((r) => setTimeout(r, 500));
  const wh = new Webhook(endpoint.secret);
  const types = received.map((r) => { wh.verify(r.body, r.headers); return JSON.parse(r.body).type; });
  log('webhook deliveries (all signatures verified):', types.join(', '));
  const leaked = received.filter((r) => codes.some((c) => r.body.includes(c)));
  log('a code in any webhook body:', leaked.length > 0);
  const expected = ['otp.sent', 'otp.fallback', 'otp.verified'];
  if (leaked.length || !expected.every((t) => types.includes(t)) || new Set(codes).size !== 1 || !verified.ok) throw new Error('the run did not go as the README says');

  // 5. the delivery log, from the endpoint's tab
  await openTab('CreateWebhookEndpoint');
  await setVariables({ id: endpoint.webhookEndpoint.id });
  const deliveries = await runAndRead('query WebhookDeliveries', 'SUCCEEDED');
  log('delivery log:', deliveries.data.webhookEndpoint.deliveries.nodes.map((n) => `${n.eventType}:${n.status}`).join(', '));
  await page.screenshot({ path: 'live-run.png' });
  log('page errors:', errors.length);
  await browser.close();
  process.kill(-server.pid, 'SIGTERM');
  receiver.close();
}
main().catch((e) => { console.error('LIVE RUN FAILED:', e); process.exit(1); });
