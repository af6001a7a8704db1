import { listAll } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_templates', { OTP_WORKER: 'false' }); });
afterAll(() => t.close());

const FIELDS = 'id channel subject body htmlBody';
const CREATE = `mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { messageTemplate { ${FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation($id: String!, $input: UpdateMessageTemplateInput!) { updateMessageTemplate(id: $id, input: $input) { messageTemplate { ${FIELDS} } userErrors { field message code } } }`;
const DELETE = `mutation($id: String!) { deleteMessageTemplate(id: $id) { messageTemplate { id } userErrors { field message code } } }`;

describe('message templates: successful cases', () => {
  test('the three defaults (and the two OTP rule defaults) are seeded', async () => {
    expect(await listAll(t, 'messageTemplates', 'id channel')).toEqual([
      { id: 'otp_email', channel: 'EMAIL' }, { id: 'otp_rule_email', channel: 'EMAIL' }, { id: 'otp_rule_sms', channel: 'SMS' },
      { id: 'otp_sms', channel: 'SMS' }, { id: 'otp_whatsapp', channel: 'WHATSAPP' },
    ]);
  });

  test('admins create, read, update and delete templates', async () => {
    const created = await t.gql(CREATE, { input: { id: 'overseas_otp', channel: 'EMAIL', subject: 'Hi {{name}}', body: 'Code {{otp}}', htmlBody: '<b>{{otp}}</b>' } });
    expect(created.body.data.createMessageTemplate).toEqual({
      messageTemplate: { id: 'overseas_otp', channel: 'EMAIL', subject: 'Hi {{name}}', body: 'Code {{otp}}', htmlBody: '<b>{{otp}}</b>' }, userErrors: [],
    });
    const updated = await t.gql(UPDATE, { id: 'overseas_otp', input: { body: 'Your code: {{otp}}', htmlBody: null } });
    expect(updated.body.data.updateMessageTemplate.messageTemplate).toMatchObject({ subject: 'Hi {{name}}', body: 'Your code: {{otp}}', htmlBody: null });
    const read = await t.gql(`query { messageTemplate(id: "overseas_otp") { id body } }`);
    expect(read.body.data.messageTemplate).toEqual({ id: 'overseas_otp', body: 'Your code: {{otp}}' });
    expect((await t.gql(DELETE, { id: 'overseas_otp' })).body.data.deleteMessageTemplate.userErrors).toEqual([]);
    expect((await t.gql(`query { messageTemplate(id: "overseas_otp") { id } }`)).body.data.messageTemplate).toBeNull();
  });
});

describe('message templates: failing cases', () => {
  test('bad ids, bad syntax, duplicates, defaults and non-admins', async () => {
    const bad = await t.gql(CREATE, { input: { id: 'Bad Id', channel: 'SMS', body: 'Code {{otp' } });
    expect(bad.body.data.createMessageTemplate.userErrors.map((e: { field: string[] }) => e.field)).toEqual([['input', 'body'], ['input', 'id']]);
    const dup = await t.gql(CREATE, { input: { id: 'otp_sms', channel: 'SMS', body: '{{otp}}' } });
    expect(dup.body.data.createMessageTemplate.userErrors[0].code).toBe('TAKEN');
    const del = await t.gql(DELETE, { id: 'otp_email' });
    expect(del.body.data.deleteMessageTemplate.userErrors[0].code).toBe('IN_USE');
    const missing = await t.gql(UPDATE, { id: 'nope', input: { body: 'x {{otp}}' } });
    expect(missing.body.data.updateMessageTemplate.userErrors[0].code).toBe('NOT_FOUND');
    const user = await t.keyFor('USER');
    const forbidden = await t.gql(`{ messageTemplates { nodes { id } } }`, {}, { key: user.key });
    expect(forbidden.body.errors![0].extensions!.code).toBe('FORBIDDEN');
  });
});

describe('attacker (or a careless admin): an OTP message without its code', () => {
  const OTP_ERROR = (key: string) => ({
    field: ['input', key], code: 'INVALID', message: `The ${key} must contain {{otp}} (outside any {{#if}} or other block), so every OTP message carries its code.`,
  });

  test('create refuses a body without {{otp}}, or with it only inside a block, and an HTML body without it; nothing written', async () => {
    for (const body of ['Your code is ready.', '{{#if otp}}{{otp}}{{/if}}', 'Code: {{otpx}}', '{{! {{otp}} }} comment only']) {
      const res = await t.gql(CREATE, { input: { id: 'no_code', channel: 'SMS', body } });
      expect(res.body.data.createMessageTemplate).toEqual({ messageTemplate: null, userErrors: [OTP_ERROR('body')] });
    }
    const html = await t.gql(CREATE, { input: { id: 'no_code', channel: 'EMAIL', subject: 'Code', body: 'Code {{otp}}', htmlBody: '<p>See the text part</p>' } });
    expect(html.body.data.createMessageTemplate.userErrors).toEqual([OTP_ERROR('htmlBody')]);
    expect(await t.sql(`SELECT id FROM message_templates WHERE id = 'no_code'`)).toEqual([]);
    const ok = await t.gql(CREATE, { input: { id: 'triple_otp', channel: 'SMS', body: 'Code {{{otp}}}, valid {{expiresInMinutes}} min' } });
    expect(ok.body.data.createMessageTemplate.userErrors).toEqual([]);
  });

  test('update refuses to drop {{otp}} from a built-in template', async () => {
    const res = await t.gql(UPDATE, { id: 'otp_sms', input: { body: 'Your code is on its way.' } });
    expect(res.body.data.updateMessageTemplate).toEqual({ messageTemplate: null, userErrors: [OTP_ERROR('body')] });
    const html = await t.gql(UPDATE, { id: 'otp_email', input: { htmlBody: '<p>Welcome</p>' } });
    expect(html.body.data.updateMessageTemplate.userErrors).toEqual([OTP_ERROR('htmlBody')]);
    const [sms] = await t.sql(`SELECT body FROM message_templates WHERE id = 'otp_sms'`);
    expect(sms.body).toContain('{{otp}}');
  });

  test('every seeded built-in template prints the code in each part it sends', async () => {
    const seeded = (await listAll(t, 'messageTemplates', 'id body htmlBody')).filter((m: { id: string }) => ['otp_email', 'otp_sms', 'otp_whatsapp'].includes(m.id));
    expect(seeded).toHaveLength(3);
    for (const template of seeded) {
      expect(template.body).toMatch(/^(?:(?!\{\{#).)*\{\{otp\}\}/s); // before any block
      if (template.htmlBody !== null) expect(template.htmlBody).toMatch(/^(?:(?!\{\{#).)*\{\{otp\}\}/s);
      // and the seeded rows pass the same check an admin's edit must pass: saving them back unchanged is accepted
      const again = await t.gql(UPDATE, { id: template.id, input: { body: template.body, htmlBody: template.htmlBody } });
      expect(again.body.data.updateMessageTemplate.userErrors).toEqual([]);
    }
  });
});
