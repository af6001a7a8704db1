import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { RESEND_FIELDS, SEND_FIELDS, VERIFY_FIELDS } from '../../src/otp/otp.fields';
import { validateSendOtp } from '../../src/otp/otp.validation';
import { openApiDocument, printOpenApi } from '../../src/otp/rest/openapi';
import { nonConformance } from '../support/openapi-conformance';
import { restGet } from '../support/rest';
import { startTestServer, type TestServer } from '../support/test-server';

const ROOT = join(__dirname, '..', '..');
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_openapi', { OTP_WORKER: 'false' });
});
afterAll(() => t.close());

describe('the OpenAPI document', () => {
  test('openapi.json is the document the code builds (run `npm run openapi:print` after changing the REST door)', () => {
    expect(readFileSync(join(ROOT, 'openapi.json'), 'utf8')).toBe(printOpenApi());
  });

  test('GET /api/openapi.json serves it without a key (it holds no data)', async () => {
    const res = await restGet(t, '/api/openapi.json', null);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')));
  });

  test('it is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator, which is ESM-only: run in its own node)', async () => {
    const script = `
      import { Validator } from '@seriousme/openapi-schema-validator';
      import { readFileSync } from 'node:fs';
      const validator = new Validator();
      const result = await validator.validate(JSON.parse(readFileSync('openapi.json', 'utf8')));
      process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors ?? null }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ valid: true, version: '3.1', errors: null });
  });

  test('every REST path the router serves is documented, each with its answers', () => {
    const document = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(Object.keys(document.paths).sort()).toEqual(['/api/cancel-otp', '/api/openapi.json', '/api/otp/{id}', '/api/resend-otp', '/api/send-otp', '/api/verify-otp']);
    for (const path of ['/api/send-otp', '/api/verify-otp', '/api/resend-otp', '/api/cancel-otp']) {
      const idempotent = path === '/api/send-otp' ? ['409'] : []; // a retry while the first request with its Idempotency-Key runs
      expect(Object.keys(document.paths[path].post.responses).sort()).toEqual(['200', '400', '401', '403', '404', ...idempotent, '413', '422', '429', '500'].filter((s) => s !== '404' || !/\/(send|verify)-otp$/.test(path)));
    }
  });
});

describe('the request schemas are the validator\'s rules, not a second copy', () => {
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  const schemas = (openApiDocument() as { components: { schemas: Record<string, any> } }).components.schemas;

  test('each documented property has exactly the validator\'s fields under the partner keys, required as the validator requires', () => {
    expect(Object.keys(schemas.SendOtpRequest.properties)).toHaveLength(Object.keys(SEND_FIELDS).length);
    expect(Object.keys(schemas.VerifyOtpRequest.properties)).toHaveLength(Object.keys(VERIFY_FIELDS).length);
    expect(schemas.SendOtpRequest.required).toEqual(['source', 'type']);
    expect(schemas.SendOtpRequest.oneOf).toEqual([{ required: ['channel'] }, { required: ['workflow'] }]); // one of the two, never both
    expect(schemas.ResendOtpRequest.required).toEqual(['otp_request_id']);
    expect(Object.keys(schemas.ResendOtpRequest.properties)).toEqual(['otp_request_id', 'channel']);
    expect(Object.keys(schemas.CancelOtpRequest.properties)).toEqual(['otp_request_id']);
    expect(RESEND_FIELDS.otpRequestId.required).toBe(true);
  });

  test('at and past every bound, the document and the validator agree', () => {
    const validateDocumented = ajv.compile(schemas.SendOtpRequest);
    const base = { mobile_no: '7977251637', channel: 'sms', source: 'user_signup', type: 'simple_otp' };
    const neutral = { mobileNo: '7977251637', channels: 'sms', source: 'user_signup', type: 'simple_otp' };
    const cases: Array<[string, string, unknown]> = [
      ['otp_code_length', 'otpCodeLength', 3], ['otp_code_length', 'otpCodeLength', 4], ['otp_code_length', 'otpCodeLength', 10],
      ['otp_code_length', 'otpCodeLength', 11], ['mobile_no', 'mobileNo', '1234567'], ['mobile_no', 'mobileNo', '97772516371'],
      ['source', 'source', 'a'.repeat(64)], ['source', 'source', 'a'.repeat(65)], ['source', 'source', 'bad source'],
      ['otp_code_type', 'otpCodeType', 'NUMERIC'], ['otp_code_type', 'otpCodeType', 'HEX'], ['otp_code', 'otpCode', '123'],
      ['otp_code', 'otpCode', 'ABC123'], ['otp_code', 'otpCode', '12345678901'], ['rule_id', 'ruleId', 0], ['record_id', 'recordId', 'nope'],
      ['email_from_name', 'emailFromName', 'x'.repeat(101)], ['type', 'type', 'magic_otp'],
    ];
    for (const [key, field, value] of cases) {
      const documented = validateDocumented({ ...base, [key]: value });
      const validated = validateSendOtp({ ...neutral, [field]: value }, '91', 600).errors.length === 0;
      expect({ key, value, documented }).toEqual({ key, value, documented: validated });
    }
    // a workflow instead of the channel: steps, their channels and waits at and past their bounds
    const { channel: _channel, ...baseWithout } = base;
    const { channels: _channels, ...neutralWithout } = neutral;
    const steps: unknown[][] = [
      [{ channel: 'whatsapp' }], [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 1 }], [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 0 }],
      [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 300 }], [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 601 }],
      [{ channel: 'whatsapp', wait_seconds: 0 }], [{ channel: 'whatsapp', wait_seconds: 5 }], [{ channel: 'whatsapp' }, { channel: 'sms' }],
      [{ channel: 'telegram' }], [], [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 1 }, { channel: 'whatsapp', wait_seconds: 1 }].slice(0, 2),
      [{ channel: 'sms' }, { channel: 'whatsapp', wait_seconds: 1 }, { channel: 'sms', wait_seconds: 1 }, { channel: 'whatsapp', wait_seconds: 1 }],
    ];
    for (const workflow of steps) {
      const documented = validateDocumented({ ...baseWithout, workflow });
      const neutralSteps = workflow.map((s: any) => ({ channel: s.channel, waitSeconds: s.wait_seconds }));
      const validated = validateSendOtp({ ...neutralWithout, workflow: neutralSteps }, '91', 600).errors.length === 0;
      expect({ workflow, documented }).toEqual({ workflow, documented: validated });
    }
    expect(validateDocumented({ ...base, workflow: [{ channel: 'sms' }] })).toBe(false); // both: refused by each
    expect(validateDocumented(baseWithout)).toBe(false); // neither
  });
});

describe('the conformance check every REST test helper runs', () => {
  test('refuses an answer with an extra field, a missing one, an undocumented status or path', () => {
    const good = { status: true, message: 'OTP sent successfully', data: { otp_request_id: '00000000-0000-4000-8000-000000000001', expires_at: '2026-01-01T00:00:00.000Z', channels: ['sms'] } };
    expect(nonConformance('POST', '/api/send-otp', 200, good)).toBeNull();
    expect(nonConformance('POST', '/api/send-otp', 200, { ...good, data: { ...good.data, code: '1234' } })).toMatch(/additional/);
    expect(nonConformance('POST', '/api/send-otp', 200, { ...good, message: undefined })).toMatch(/message/);
    expect(nonConformance('POST', '/api/send-otp', 418, good)).toMatch(/does not document status 418/);
    expect(nonConformance('POST', '/api/nowhere', 200, good)).toMatch(/not in the OpenAPI document/);
    expect(nonConformance('GET', '/api/otp/abc', 404, { status: false, message: 'x', data: { reason: 'NOT_FOUND' } })).toBeNull();
  });
});
