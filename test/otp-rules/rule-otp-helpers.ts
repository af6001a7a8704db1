import { createRecord, listAll, sendRuleOtp, tryCreateOtpRule, updateOtpRule, updateRecord, type RuleOtpInput } from '../support/api';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';
import { FakeHttpProvider, FakeSmtpServer } from '../otp/fake-providers';
import { freshMobile } from '../otp/otp-helpers';

export type Rule = { id: number; name: string; sanitizedName: string };
export type UserErrorShape = { field: string[] | null; message: string; code: string; details: any };

/**
 * A server whose SMS and email go to local fake providers, so a test reads the code from the message its recipient
 * actually got (as a customer would), and sees the exact text.
 */
export class RuleOtpWorld {
  t!: TestServer;
  readonly twilio = new FakeHttpProvider((n) => ({ sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' }));
  readonly smtp = new FakeSmtpServer();
  private rules = 0;

  async start(label: string, env: Record<string, string> = {}): Promise<TestServer> {
    const [twilioUrl, smtpUrl] = await Promise.all([this.twilio.start(), this.smtp.start()]);
    this.t = await startTestServer(label, {
      SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006',
      TWILIO_BASE_URL: twilioUrl, EMAIL_PROVIDER: 'smtp', SMTP_URL: smtpUrl, SMTP_FROM: 'otp@countersign.test',
      OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '10000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '10000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '10000',
      OTP_RULES_LIMIT: '1000',
      ...env,
    });
    return this.t;
  }

  async stop(): Promise<void> {
    await this.t?.close();
    await Promise.all([this.twilio.stop(), this.smtp.stop()]);
  }

  /** Deactivates every rule, so one test's rules never guard the next test's saves. */
  async deactivateRules(): Promise<void> {
    for (const { id } of await listAll(this.t, 'otpRules', 'id', { active: true })) {
      await this.t.gql('mutation($id: Int!) { updateOtpRule(id: $id, input: { active: false }) { userErrors { code } } }', { id });
    }
  }

  async createRule(input: Record<string, unknown>): Promise<Rule> {
    const res = await this.createRuleRaw({ name: `Integrity rule ${++this.rules} ${Date.now()}`, ...input });
    expect(res.userErrors).toEqual([]);
    return res.otpRule;
  }

  async createRuleRaw(input: Record<string, unknown>): Promise<{ otpRule: Rule; userErrors: UserErrorShape[] }> {
    return tryCreateOtpRule(this.t, input) as Promise<{ otpRule: Rule; userErrors: UserErrorShape[] }>;
  }

  async updateRule(id: number, input: Record<string, unknown>): Promise<UserErrorShape[]> {
    return (await updateOtpRule(this.t, id, input)).userErrors;
  }

  async createRecord(module: string, fields: Record<string, unknown>, key?: string): Promise<{ id: string; version: number }> {
    return createRecord(this.t, module, fields, { key });
  }

  /** A contact with a mobile number of its own (E.164 returned beside it). */
  async contact(fields: Record<string, unknown> = {}, key?: string): Promise<{ id: string; mobile: string; e164: string }> {
    const mobile = freshMobile();
    const { id } = await this.createRecord('Contacts', { lastName: `Integrity ${Math.random().toString(36).slice(2, 8)}`, mobile, contactStatus: 'Active', ...fields }, key);
    return { id, mobile, e164: `+91${mobile}` };
  }

  async update(id: string, fields: Record<string, unknown>, options: { otp?: unknown[]; key?: string; headers?: Record<string, string> } = {}): Promise<{ record: any; userErrors: UserErrorShape[] }> {
    return updateRecord(this.t, id, fields, { ...options, otp: options.otp as RuleOtpInput[] | undefined });
  }

  async sendRuleOtp(ruleId: number, recordId: string, options: { key?: string; intendedFields?: Record<string, unknown> } = {}): Promise<{ otpRequest: any; userErrors: UserErrorShape[] }> {
    return sendRuleOtp(this.t, ruleId, recordId, options);
  }

  smsCount(to: string): number {
    return this.twilio.received.filter((r) => new URLSearchParams(r.body).get('To') === to).length;
  }

  /** Waits (bounded) for SMS number `index` (0-based) to `to` and returns its text. */
  async sms(to: string, index = 0): Promise<string> {
    return until(`SMS #${index} to ${to}`, () => {
      const texts = this.twilio.received.map((r) => new URLSearchParams(r.body)).filter((f) => f.get('To') === to).map((f) => f.get('Body')!);
      return texts[index];
    }, 20_000);
  }

  /** Waits (bounded) until OTP request `otpRequestId` was delivered, and returns the last SMS its number received. */
  async smsOf(otpRequestId: string, to: string): Promise<string> {
    await until(`delivery of ${otpRequestId}`, async () => (await this.t.sql("SELECT 1 FROM otp_deliveries WHERE otp_request_id = $1 AND status = 'SENT'", [otpRequestId])).length > 0, 20_000);
    const texts = this.twilio.received.map((r) => new URLSearchParams(r.body)).filter((f) => f.get('To') === to).map((f) => f.get('Body')!);
    return texts[texts.length - 1];
  }

  /** Waits (bounded) for email number `index` (0-based) to `to` and returns its raw MIME text. */
  async email(to: string, index = 0): Promise<string> {
    return until(`email #${index} to ${to}`, () => this.smtp.received.filter((m) => m.to.includes(to))[index]?.raw, 20_000);
  }
}

/** The code in a message: the first run of 4-10 digits standing alone. */
export function codeIn(text: string): string {
  const match = /(?:^|[^\w-])(\d{4,10})(?![\w-])/.exec(text);
  if (!match) throw new Error(`No code in: ${text}`);
  return match[1];
}

export const codes = (errors: UserErrorShape[]) => errors.map((e) => e.code);

/** Contacts: deactivating a contact needs an SMS OTP sent to the contact's mobile. */
export const deactivation = (extra: Record<string, unknown> = {}) => ({
  module: 'Contacts', channels: ['SMS'], recipientField: 'mobile',
  conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
  ...extra,
});
