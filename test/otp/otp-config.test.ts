import { loadConfig } from '../../src/core/config';

describe('OTP configuration', () => {
  test('defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      EMAIL_PROVIDER: 'log', SMS_PROVIDER: 'log', WHATSAPP_PROVIDER: 'log', DEFAULT_COUNTRY_CODE: '91', OTP_VALIDITY_SECONDS: 600,
      OTP_MAX_ATTEMPTS: 5, OTP_RESEND_COOLDOWN_SECONDS: 30, OTP_MAX_RESENDS: 5, OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: 5,
      OTP_SEND_LIMIT_PER_RECIPIENT_DAY: 20, OTP_SEND_LIMIT_PER_KEY_MINUTE: 60, OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: 100,
      OTP_WORKER: true, TWILIO_BASE_URL: 'https://api.twilio.com',
    });
    expect(config.OTP_TEST_RECIPIENTS.size).toBe(0);
  });

  test('OTP_TEST_RECIPIENTS: mobiles become E.164, emails lower-case, codes upper-case', () => {
    const { OTP_TEST_RECIPIENTS } = loadConfig({ OTP_TEST_RECIPIENTS: '+919876543210:123456, 91 98765 00000:1111,QA@example.com:ab12cd' });
    expect([...OTP_TEST_RECIPIENTS]).toEqual([['+919876543210', '123456'], ['+919876500000', '1111'], ['qa@example.com', 'AB12CD']]);
  });

  test('a provider without its settings, or a bad entry, is a clear error per variable', () => {
    expect(() => loadConfig({ SMS_PROVIDER: 'twilio', EMAIL_PROVIDER: 'smtp' })).toThrow(
      'Invalid configuration: SMTP_URL is required by the chosen provider\n'
      + 'Invalid configuration: TWILIO_ACCOUNT_SID is required by the chosen provider\n'
      + 'Invalid configuration: TWILIO_AUTH_TOKEN is required by the chosen provider\n'
      + 'Invalid configuration: TWILIO_FROM is required by the chosen provider',
    );
    expect(() => loadConfig({ OTP_TEST_RECIPIENTS: 'qa@example.com' })).toThrow(/OTP_TEST_RECIPIENTS entry "qa@example.com" must be recipient:code/);
    expect(() => loadConfig({ SMS_PROVIDER: 'carrier-pigeon' })).toThrow(/SMS_PROVIDER/);
  });
});
