import { RuleOtpWorld, codeIn, deactivation } from './rule-otp-helpers';
import { freshMobile } from '../otp/otp-helpers';

const w = new RuleOtpWorld();
beforeAll(() => w.start('rule_otp_templates', { SMTP_FROM_NAME: 'Acme CRM' }));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

async function template(input: Record<string, unknown>) {
  const res = await w.t.gql('mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { userErrors { field message } } }', { input });
  expect(res.body.data.createMessageTemplate.userErrors).toEqual([]);
}

/** The decoded text part of a raw MIME message (quoted-printable soft breaks and =XX escapes undone). */
function mailText(raw: string): { headers: string; body: string } {
  const [headers, ...rest] = raw.split(/\r?\n\r?\n/);
  const decoded = rest.join('\n\n').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex) => String.fromCharCode(parseInt(hex, 16)));
  return { headers: headers.replace(/\r?\n\s+/g, ' '), body: decoded };
}

describe('the message names the action (default rule templates)', () => {
  test('SMS: "<code> is your code to change Lead Asha Rao lead status to Qualified"', async () => {
    const mobile = freshMobile();
    const { id } = await w.createRecord('Leads', { firstName: 'Asha', lastName: 'Rao', mobile, leadStatus: 'New' });
    const rule = await w.createRule({ module: 'Leads', channels: ['SMS'], recipientField: 'mobile', conditions: [{ match: 'ALL', conditions: [{ field: 'leadStatus', operator: 'HAS_CHANGED_TO', value: 'Qualified' }] }] });
    expect((await w.sendRuleOtp(rule.id, id, { intendedFields: { leadStatus: 'Qualified' } })).userErrors).toEqual([]);
    const text = await w.sms(`+91${mobile}`);
    const code = codeIn(text);
    expect(text).toBe(`${code} is your code to change Lead Asha Rao lead status to Qualified. It expires in 10 minutes. Do not share it.`);
  });

  test('email: subject from the template, sender from SMTP_FROM_NAME, "code to change Invoice INV-12 status to Paid"', async () => {
    const user = await w.t.keyFor('USER');
    const { id } = await w.createRecord('Invoices', { subject: 'INV-12', status: 'Approved' }, user.key);
    const rule = await w.createRule({ module: 'Invoices', channels: ['EMAIL'], recipientField: null, conditions: [{ match: 'ALL', conditions: [{ field: 'status', operator: 'HAS_CHANGED_TO', value: 'Paid' }] }] });
    expect((await w.sendRuleOtp(rule.id, id, { key: user.key, intendedFields: { status: 'Paid' } })).userErrors).toEqual([]);
    const [{ email }] = await w.t.sql('SELECT email FROM users WHERE id = $1', [user.userId]);
    const { headers, body } = mailText(await w.email(email));
    expect(headers).toMatch(/^Subject: Your code to change Invoice INV-12$/m);
    expect(headers).toMatch(/^From: "?Acme CRM"? <otp@countersign\.test>$/m);
    expect(body).toContain('Your code to change Invoice INV-12 status to Paid is ');
    const code = /status to Paid is (\d{6})\./.exec(body)![1];
    expect((await w.update(id, { status: 'Paid' }, { key: user.key, otp: [{ rule: String(rule.id), code }] })).userErrors).toEqual([]);
  });

  test('without a known change the message still names the record, with no blanks', async () => {
    const contact = await w.contact({ firstName: 'Ravi', lastName: 'Iyer' });
    const rule = await w.createRule(deactivation());
    await w.sendRuleOtp(rule.id, contact.id);
    const text = await w.sms(contact.e164);
    expect(text).toBe(`${codeIn(text)} is your code to change Contact Ravi Iyer. It expires in 10 minutes. Do not share it.`);
  });
});

describe('a rule\'s own templates per channel', () => {
  test('an SMS template reading the record\'s fields, the rule\'s name and the change renders every one (no "Dear , ")', async () => {
    await template({ id: `greeting_sms_${Date.now()}`, channel: 'SMS', body: 'Dear {{record.firstName}}, {{otp}} confirms "{{rule.name}}" for {{record.label}}: {{change}}.' });
    const [{ id: templateId }] = await w.t.sql("SELECT id FROM message_templates WHERE id LIKE 'greeting_sms_%' ORDER BY created_at DESC LIMIT 1");
    const contact = await w.contact({ firstName: 'Meera', lastName: 'Shah' });
    const rule = await w.createRule(deactivation({ name: `Deactivation ${Date.now()}`, smsTemplateId: templateId, autoSendOnMatch: true }));
    await w.update(contact.id, { contactStatus: 'Inactive' }); // refused; the OTP is sent for this change
    const text = await w.sms(contact.e164);
    expect(text).toBe(`Dear Meera, ${codeIn(text)} confirms "${rule.name}" for Meera Shah: status to Inactive.`);
  });

  test('a variable the rule cannot fill, a template of the wrong channel and a missing one are refused when the rule is saved, all at once', async () => {
    const id = `bad_vars_${Date.now()}`;
    await template({ id, channel: 'SMS', body: '{{otp}} for {{record.firstName}} {{record.salary}} {{customer}}' });
    const res = await w.createRuleRaw({ name: `Bad templates ${Date.now()}`, ...deactivation({ channels: ['SMS', 'EMAIL'] }), smsTemplateId: id, emailTemplateId: 'otp_sms', whatsappTemplateId: 'no_such_template' });
    expect(res.otpRule).toBeNull();
    expect(res.userErrors.map((e) => [e.field, e.code])).toEqual(expect.arrayContaining([
      [['smsTemplateId'], 'INVALID'], [['emailTemplateId'], 'INVALID'], [['whatsappTemplateId'], 'NOT_FOUND'],
    ]));
    expect(res.userErrors).toHaveLength(3);
    expect(res.userErrors.find((e) => e.field![0] === 'smsTemplateId')!.details.unknownVariables.sort()).toEqual(['customer', 'record.salary']);

    // a valid rule moved to a module without the field its template reads is refused too
    const okId = `first_name_${Date.now()}`;
    await template({ id: okId, channel: 'SMS', body: '{{otp}} for {{record.firstName}}' });
    const rule = await w.createRule(deactivation({ smsTemplateId: okId }));
    const moved = await w.updateRule(rule.id, { module: 'Organizations', recipientField: 'phone', conditions: [{ match: 'ALL', conditions: [{ field: 'name', operator: 'HAS_CHANGED' }] }] });
    expect(moved).toEqual([expect.objectContaining({ field: ['smsTemplateId'], code: 'INVALID' })]);
  });
});
