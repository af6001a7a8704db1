import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_templates', { OTP_WORKER: 'false' }); });
afterAll(() => t.close());

const FIELDS = 'id channel subject body htmlBody';
const CREATE = `mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { messageTemplate { ${FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation($id: String!, $input: UpdateMessageTemplateInput!) { updateMessageTemplate(id: $id, input: $input) { messageTemplate { ${FIELDS} } userErrors { field message code } } }`;
const DELETE = `mutation($id: String!) { deleteMessageTemplate(id: $id) { messageTemplate { id } userErrors { field message code } } }`;

describe('message templates: successful cases', () => {
  test('the three defaults are seeded', async () => {
    const res = await t.gql(`{ messageTemplates { id channel } }`);
    expect(res.body.data.messageTemplates).toEqual([
      { id: 'otp_email', channel: 'EMAIL' }, { id: 'otp_sms', channel: 'SMS' }, { id: 'otp_whatsapp', channel: 'WHATSAPP' },
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
    const missing = await t.gql(UPDATE, { id: 'nope', input: { body: 'x' } });
    expect(missing.body.data.updateMessageTemplate.userErrors[0].code).toBe('NOT_FOUND');
    const user = await t.keyFor('USER');
    const forbidden = await t.gql(`{ messageTemplates { id } }`, {}, { key: user.key });
    expect(forbidden.body.errors![0].extensions!.code).toBe('FORBIDDEN');
  });
});
