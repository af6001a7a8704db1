import { createOtpRule, createRecord, listAll } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

/** Fixed codes for these recipients (OTP_TEST_RECIPIENTS), so tests know the right code without reading messages. */
export const MOBILE = '+919876543210';
export const MOBILE_CODE = '482913';
/** The built-in admin's email; rules without a recipient field send to the acting user. */
export const ADMIN_CODE = '771204';

export type Rule = { id: number; name: string };
export type Saved = { record: { id: string; version: number; fields: Record<string, unknown> } | null; userErrors: Array<{ code: string; message: string; details: any }> };

/** A server and the few operations the rule-matching tests need, from the user's side (GraphQL). */
export class RuleWorld {
  t!: TestServer;
  private ruleNumber = 0;

  static codes(saved: Saved): string[] {
    return saved.userErrors.map((e) => e.code);
  }

  async start(label: string): Promise<void> {
    this.t = await startTestServer(label, {
      OTP_TEST_RECIPIENTS: `${MOBILE}:${MOBILE_CODE},admin@countersign.local:${ADMIN_CODE}`,
      OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '10000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '10000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '10000',
      OTP_RULES_LIMIT: '1000',
    });
  }

  stop(): Promise<void> {
    return this.t.close();
  }

  /** Each test defines its own rules; deactivate them so they do not guard the next test's saves. */
  async deactivateRules(): Promise<void> {
    for (const { id } of await listAll(this.t, 'otpRules', 'id', { active: true })) await this.t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id });
  }

  async createRule(input: Record<string, unknown>): Promise<Rule> {
    this.ruleNumber += 1;
    return createOtpRule(this.t, { name: `Matching ${this.ruleNumber}`, ...input });
  }

  async updateRule(id: number, input: Record<string, unknown>): Promise<void> {
    const res = await this.t.gql('mutation($id: Int!, $input: OtpRuleInput!) { updateOtpRule(id: $id, input: $input) { userErrors { message } } }', { id, input });
    if (res.body.data.updateOtpRule.userErrors.length) throw new Error(JSON.stringify(res.body.data.updateOtpRule.userErrors));
  }

  async create(module: string, fields: Record<string, unknown>, key?: string): Promise<string> {
    return (await createRecord(this.t, module, fields, { key })).id;
  }

  async update(id: string, fields: Record<string, unknown>, otp?: Array<{ rule: string; code: string }>, key?: string): Promise<Saved> {
    const res = await this.t.gql(`mutation($id: ID!, $fields: JSONObject!, $otp: [OtpInput!]) {
      updateRecord(id: $id, fields: $fields, otp: $otp) { record { id version fields } userErrors { code message details } } }`, { id, fields, otp }, { key });
    if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
    return res.body.data.updateRecord;
  }

  async sendRuleOtp(rule: { id: number }, recordId: string, key?: string): Promise<string> {
    const res = await this.t.gql('mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { otpRequest { id } userErrors { code message } } }', { r: rule.id, id: recordId }, { key });
    if (res.body.data.sendRuleOtp.userErrors.length) throw new Error(JSON.stringify(res.body.data.sendRuleOtp.userErrors));
    return res.body.data.sendRuleOtp.otpRequest.id;
  }

  /** A guarded save done properly: send the rule's OTP, then save with it. */
  async saveWithOtp(rule: { id: number }, id: string, fields: Record<string, unknown>, code: string): Promise<Saved> {
    await this.sendRuleOtp(rule, id);
    const saved = await this.update(id, fields, [{ rule: String(rule.id), code }]);
    if (saved.userErrors.length) throw new Error(JSON.stringify(saved.userErrors));
    return saved;
  }

  async fieldsOf(id: string): Promise<Record<string, unknown>> {
    return (await this.t.sql('SELECT fields FROM records WHERE id = $1', [id]))[0].fields;
  }
}
