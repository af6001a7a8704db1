import { MOBILE, RuleWorld } from './rule-world';

// OtpRequest.rule shows who may see an OTP request (its sender) the rule's id and name, never its settings.
const w = new RuleWorld();
beforeAll(() => w.start('rule_ref'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

const secretRule = () => w.createRule({
  module: 'Contacts', channels: ['SMS'], recipientField: 'mobile', applicableProfiles: ['Sales'], description: 'internal: fraud desk',
  conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
});
const REQUEST = (selection: string) => `query($id: ID!) { otpRequest(id: $id) { id rule { ${selection} } } }`;

describe('attacker: a USER reads a rule\'s settings through an OTP request it sent', () => {
  test('a USER sees the rule\'s id and name only, also once the rule is inactive; asking for more is a validation error', async () => {
    const user = await w.t.keyFor('USER');
    const rule = await secretRule();
    const id = await w.create('Contacts', { lastName: 'Ref', mobile: MOBILE, contactStatus: 'Active' }, user.key);
    const otpRequestId = await w.sendRuleOtp(rule, id, user.key);
    await w.updateRule(rule.id, { active: false });

    const visible = await w.t.gql(REQUEST('id name'), { id: otpRequestId }, { key: user.key });
    expect(visible.body).toEqual({ data: { otpRequest: { id: otpRequestId, rule: { id: rule.id, name: rule.name } } } });

    for (const field of ['conditions { match }', 'applicableProfiles', 'recipientField', 'description', 'active', 'maxValidationAttempts']) {
      const res = await w.t.gql(REQUEST(field), { id: otpRequestId }, { key: user.key });
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors[0]).toMatchObject({ message: expect.stringContaining('on type "OtpRuleRef"'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    }
    const direct = await w.t.gql('query($id: Int!) { otpRule(id: $id) { conditions { match } } }', { id: rule.id }, { key: user.key });
    expect(direct.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  test('an ADMIN gets the same reference on the request and reads the settings from otpRule(id)', async () => {
    const rule = await secretRule();
    const id = await w.create('Contacts', { lastName: 'Ref admin', mobile: MOBILE, contactStatus: 'Active' });
    const otpRequestId = await w.sendRuleOtp(rule, id);
    const ref = await w.t.gql(REQUEST('id name'), { id: otpRequestId });
    expect(ref.body.data.otpRequest.rule).toEqual({ id: rule.id, name: rule.name });
    expect((await w.t.gql(REQUEST('recipientField'), { id: otpRequestId })).body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const full = await w.t.gql('query($id: Int!) { otpRule(id: $id) { recipientField applicableProfiles } }', { id: rule.id });
    expect(full.body.data.otpRule).toEqual({ recipientField: 'mobile', applicableProfiles: ['Sales'] });
  });
});
