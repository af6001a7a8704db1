import { Client } from 'pg';
import type { RunningApp } from '../../src/app/server';
import { startLoggedApp, type LoggedApp } from '../support/logged-app';
import { until } from '../support/poll';
import { restPost } from '../support/rest';

/** Everything the server writes: its pino log and anything reaching the console (Handlebars' `log` helper writes there). */
const lines: string[] = [];
const LEAK = '{{log "LEAKED-OTP=" otp level="error"}}';
let logged: LoggedApp;
let app: RunningApp;
let ADMIN_API_KEY: string;

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => { lines.push(args.map(String).join(' ')); });
  }
  logged = await startLoggedApp('otp_template_helpers', lines);
  ({ app, adminKey: ADMIN_API_KEY } = logged);
});
afterAll(async () => {
  await logged.stop();
  jest.restoreAllMocks();
});

function post(path: string, body: unknown) {
  if (path.startsWith('/api/')) return restPost({ url: app.url, adminKey: ADMIN_API_KEY }, path, body); // checked against openapi.json
  return fetch(`${app.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_API_KEY}` }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
}
const gql = (query: string, variables: Record<string, unknown>) => post('/graphql', { query, variables }).then((r) => r.body);
const emailSend = (extra: Record<string, unknown>) => ({
  email: 'person@example.com', channel: 'email', source: 'helpers', type: 'simple_otp', email_from_name: 'Shop', email_subject: 'Your code',
  email_template_id: 'otp_email', ...extra,
});
const CREATE = `mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { messageTemplate { id } userErrors { field message code } } }`;

/** Sends a harmless OTP and waits until the worker has delivered it, so anything queued before it has been rendered too. */
async function drainDeliveries(): Promise<void> {
  const sent = await post('/api/send-otp', emailSend({ email: 'drain@example.com' }));
  expect(sent.status).toBe(200);
  await until('the delivery of the drain OTP', () => lines.some((l) => l.includes('otpMessage') && l.includes('drain@example.com')), 20_000);
}

describe('attacker: a Handlebars helper in my own email subject to write the code to the server log', () => {
  test('REST: the subject is refused on email_subject, nothing queued, the code never logged', async () => {
    const res = await post('/api/send-otp', emailSend({ email_subject: LEAK }));
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({ email_subject: ['The email subject field format is invalid.'] });
    const viaLookup = await post('/api/send-otp', emailSend({ email_subject: '{{lookup this "otp"}} {{#with (log otp)}}{{/with}}' }));
    expect(viaLookup.body.errors).toEqual({ email_subject: ['The email subject field format is invalid.'] });
    await drainDeliveries();
    expect(lines.filter((l) => l.includes('LEAKED-OTP'))).toEqual([]);
  });

  test('GraphQL: a userError on emailSubject', async () => {
    const res = await gql(`mutation($input: SendOtpInput!) { sendOtp(input: $input) { otpRequest { id } userErrors { field message code } } }`, {
      input: { email: 'person@example.com', channels: ['EMAIL'], source: 'helpers', type: 'simple_otp', emailFromName: 'Shop', emailSubject: LEAK, emailTemplateId: 'otp_email' },
    });
    expect(res.data.sendOtp).toEqual({ otpRequest: null, userErrors: [{ field: ['input', 'emailSubject'], code: 'INVALID', message: 'The email subject field format is invalid.' }] });
  });

  test('allowed helpers and plain variables in a subject still render', async () => {
    const sent = await post('/api/send-otp', emailSend({ email: 'allowed@example.com', email_subject: '{{#if name}}Hi {{name}}, {{/if}}code inside', email_template_attributes: { name: 'Ann' } }));
    expect(sent.status).toBe(200);
    const line = await until('the allowed subject', () => lines.find((l) => l.includes('otpMessage') && l.includes('allowed@example.com')), 20_000);
    expect(JSON.parse(line).otpMessage.subject).toBe('Hi Ann, code inside');
  });
});

describe('attacker (admin key holder): helpers in a stored template', () => {
  test.each([
    ['log', `Code {{otp}} ${LEAK}`, /uses "log", which templates may not call; the helpers allowed are if, unless, each, with/],
    ['lookup', 'Code {{otp}} {{lookup this "constructor"}}', /uses "lookup"/],
    ['a partial', 'Code {{otp}} {{> secrets}}', /uses a partial/],
    ['an unknown helper', 'Code {{otp}} {{shout otp}}', /uses "shout"/],
  ])('%s is refused at create with a userError on the field', async (_name, body, message) => {
    const res = await gql(CREATE, { input: { id: 'helper_test', channel: 'SMS', body } });
    expect(res.data.createMessageTemplate.messageTemplate).toBeNull();
    expect(res.data.createMessageTemplate.userErrors).toEqual([{ field: ['input', 'body'], code: 'INVALID', message: expect.stringMatching(message) }]);
    const subject = await gql(`mutation { updateMessageTemplate(id: "otp_email", input: { subject: ${JSON.stringify(body)} }) { userErrors { field code } } }`, {});
    expect(subject.data.updateMessageTemplate.userErrors).toEqual([{ field: ['input', 'subject'], code: 'INVALID' }]);
  });

  test('a template stored before the allow-list that calls log is refused at send time and never rendered', async () => {
    // written as an older version (without the check) would have stored it
    const client = new Client({ connectionString: logged.databaseUrl });
    await client.connect();
    await client.query(`INSERT INTO message_templates (id, channel, subject, body) VALUES ('legacy_leak', 'EMAIL', 'Code', $1)`, [`Code {{otp}} ${LEAK}`]);
    await client.end();
    const res = await post('/api/send-otp', emailSend({ email_template_id: 'legacy_leak' }));
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({ email_template_id: ['The selected email template id is invalid.'] });
    await drainDeliveries();
    expect(lines.filter((l) => l.includes('LEAKED-OTP'))).toEqual([]);
  });
});
