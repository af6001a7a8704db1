import { ErrorCode } from '../../core/errors';
import { partnerErrors, sendRequestFrom, verifyRequestFrom } from './partner-shape';

describe('the REST door converts the partner shape at its edge', () => {
  test('a send-otp body becomes the neutral request; `channel` is the channels field, unknown and camelCase keys are dropped', () => {
    expect(sendRequestFrom({
      mobile_no: '7977251637', channel: 'sms|email', otp_code_length: '6', email_template_attributes: { name: 'A' }, rule_id: 4,
      channels: ['WHATSAPP'], otpCode: '1234', extra: true,
    })).toEqual({ mobileNo: '7977251637', channels: 'sms|email', otpCodeLength: '6', emailTemplateAttributes: { name: 'A' }, ruleId: 4 });
  });

  test('a verify-otp body keeps only the verify fields', () => {
    expect(verifyRequestFrom({ otp_request_id: 'x', code: '1', channel: 'sms', country_code: '+1' })).toEqual({ otpRequestId: 'x', code: '1', countryCode: '+1' });
  });

  test('attacker: a body naming __proto__ or constructor reaches no field', () => {
    const body = JSON.parse('{"__proto__": {"mobile_no": "1"}, "constructor": "x", "source": "s"}');
    expect(sendRequestFrom(body)).toEqual({ source: 's' });
  });

  test('errors go back under partner keys, messages grouped per key in order', () => {
    expect(partnerErrors([
      { field: ['channels'], message: 'The channel field is required.', code: ErrorCode.REQUIRED },
      { field: ['emailTemplateAttributes', 'first.name'], message: 'one', code: ErrorCode.REQUIRED },
      { field: ['otpCodeLength'], message: 'two', code: ErrorCode.INVALID },
      { field: ['otpCodeLength'], message: 'three', code: ErrorCode.INVALID },
    ])).toEqual({ channel: ['The channel field is required.'], 'email_template_attributes.first.name': ['one'], otp_code_length: ['two', 'three'] });
  });
});
