import { CHANNELS, CANCEL_FIELDS, RESEND_FIELDS, SEND_FIELDS, VERIFY_FIELDS, type FieldRule, type FieldSpec } from '../otp.fields';
import { DELIVERY_ERROR_CATEGORIES } from '../otp-delivery.entity';
import { CANCEL_KEYS, RESEND_KEYS, SEND_KEYS, VERIFY_KEYS, WORKFLOW_STEP_KEYS } from './partner-shape';

/**
 * The OpenAPI 3.1 document of the REST door, served at GET /api/openapi.json and committed as openapi.json
 * (test/otp/otp-openapi.test.ts fails when it is stale; `npm run openapi:print` rewrites it). Request bodies are
 * derived from the validator's field rules (otp.fields.ts) under the partner's keys (partner-shape.ts); the answers
 * are described here, and every answer the REST tests receive is checked against them.
 */
type Schema = Record<string, unknown>;

const API_VERSION = '1.1.0';
const CHANNEL_NAMES = CHANNELS.map((c) => c.toLowerCase());
const OTP_STATUSES = ['PENDING', 'VERIFIED', 'EXPIRED', 'CANCELED', 'MAX_ATTEMPTS_REACHED'];
const DELIVERY_STATUSES = ['SCHEDULED', 'QUEUED', 'SENDING', 'SENT', 'DELIVERED', 'FAILED', 'SKIPPED'];
const nullable = (schema: Schema): Schema => ({ ...schema, type: [schema.type, 'null'] });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** One field rule as JSON Schema (2020-12, which OpenAPI 3.1 uses as is). */
export function ruleSchema(rule: FieldRule): Schema {
  switch (rule.kind) {
    case 'text': return { type: 'string', maxLength: rule.maxLength, ...(rule.pattern ? { pattern: rule.pattern } : {}) };
    case 'integer': return { type: 'integer', minimum: rule.minimum, maximum: rule.maximum };
    case 'choice': return { type: 'string', enum: [...rule.values] };
    case 'uuid': return { type: 'string', format: 'uuid' };
    case 'mobile': return { type: 'string', pattern: `^\\d{${rule.minDigits},${rule.maxDigits}}$` };
    case 'countryCode': return { type: 'string', pattern: `^\\+?\\d{1,${rule.maxDigits}}$` };
    case 'email': return { type: 'string', format: 'email', maxLength: rule.maxLength };
    case 'channels': return { type: 'string', examples: [...CHANNEL_NAMES, 'sms|whatsapp', 'all'] };
    case 'code': return { type: 'string', minLength: rule.minLength, maxLength: rule.maxLength, pattern: '^[A-Za-z0-9]+$' };
    case 'attributes': return { type: 'object', maxProperties: rule.maxProperties, additionalProperties: { type: 'string', maxLength: rule.maxLength } };
    case 'workflow': {
      // the first step goes at once; each later one needs its wait (distinct channels and the total wait are the validator's)
      const step = (wait: Schema, required: string[]): Schema => ({
        type: 'object', required, additionalProperties: true,
        properties: { [WORKFLOW_STEP_KEYS.channel]: { type: 'string', enum: CHANNEL_NAMES }, [WORKFLOW_STEP_KEYS.waitSeconds]: { type: 'integer', ...wait } },
      });
      return {
        type: 'array', minItems: 1, maxItems: rule.maxSteps,
        prefixItems: [step({ const: 0 }, [WORKFLOW_STEP_KEYS.channel])],
        items: step({ minimum: 1, maximum: rule.maxWaitSeconds }, [WORKFLOW_STEP_KEYS.channel, WORKFLOW_STEP_KEYS.waitSeconds]),
      };
    }
  }
}

/** A request body from the validator's fields, named by the partner's keys. */
function requestSchema<F extends string>(description: string, fields: Record<F, FieldSpec>, keys: Record<F, string>): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  const groups = new Map<string, string[]>();
  for (const [field, spec] of Object.entries(fields) as Array<[F, FieldSpec]>) {
    properties[keys[field]] = { ...ruleSchema(spec.rule), description: spec.description, ...(spec.example !== undefined ? { example: spec.example } : {}) };
    if (spec.required) required.push(keys[field]);
    if (spec.oneOf) groups.set(spec.oneOf, [...(groups.get(spec.oneOf) ?? []), keys[field]]);
  }
  // exactly one of a group (channel or workflow): one `oneOf` per group, under `allOf` when there are several
  const oneOf = [...groups.values()].map((group) => ({ oneOf: group.map((key) => ({ required: [key] })) }));
  return {
    type: 'object', description, properties, required, additionalProperties: true,
    ...(oneOf.length === 1 ? oneOf[0] : oneOf.length ? { allOf: oneOf } : {}),
  };
}

function answer(message: string, data: Schema): Schema {
  return {
    type: 'object',
    required: ['status', 'message', 'data'],
    additionalProperties: false,
    properties: { status: { const: true }, message: { type: 'string', example: message }, data },
  };
}

function object(properties: Record<string, Schema>, description?: string): Schema {
  return { type: 'object', ...(description ? { description } : {}), required: Object.keys(properties), additionalProperties: false, properties };
}

const channelList: Schema = { type: 'array', items: { type: 'string', enum: CHANNEL_NAMES } };
const dateTime: Schema = { type: 'string', format: 'date-time' };
const uuid: Schema = { type: 'string', format: 'uuid' };

const SCHEMAS: Record<string, Schema> = {
  SendOtpRequest: requestSchema('The partner send-otp contract. Unknown keys are ignored.', SEND_FIELDS, SEND_KEYS),
  VerifyOtpRequest: requestSchema('Either otp_request_id, or a recipient (mobile_no or email) with its source; and the code.', VERIFY_FIELDS, VERIFY_KEYS),
  ResendOtpRequest: requestSchema('A pending OTP to send again, after the cooldown.', RESEND_FIELDS, RESEND_KEYS),
  CancelOtpRequest: requestSchema('A pending OTP to cancel: its code stops working.', CANCEL_FIELDS, CANCEL_KEYS),
  SendOtpAnswer: answer('OTP sent successfully', object({ otp_request_id: uuid, expires_at: dateTime, channels: channelList })),
  VerifyOtpAnswer: answer('OTP verified', object({ otp_request_id: uuid })),
  ResendOtpAnswer: answer('OTP resent successfully', object({
    otp_request_id: uuid, expires_at: dateTime, channels: channelList, send_count: { type: 'integer', minimum: 1 },
  })),
  CancelOtpAnswer: answer('OTP canceled', object({ otp_request_id: uuid, status: { const: 'CANCELED' } })),
  OtpDelivery: object({
    channel: { type: 'string', enum: CHANNEL_NAMES },
    status: { type: 'string', enum: DELIVERY_STATUSES },
    provider: { type: 'string', description: 'log, smtp, twilio or meta.' },
    provider_message_id: nullable({ type: 'string' }),
    attempts: { type: 'integer', minimum: 0, description: 'Provider calls made so far.' },
    error: nullable({ type: 'string', description: 'Why the last attempt failed, in general words.' }),
    error_category: { enum: [...DELIVERY_ERROR_CATEGORIES, null] },
    created_at: dateTime,
    sent_at: nullable(dateTime),
    delivered_at: nullable(dateTime),
    failed_at: nullable(dateTime),
    workflow_step: nullable({ type: 'integer', minimum: 0, description: 'Its step in the send\'s workflow (0: sent at once); null without a workflow.' }),
    scheduled_at: nullable({ ...dateTime, description: 'A later workflow step: when it is due (sent then only if the OTP is still pending, else SKIPPED).' }),
  }, 'One message of the OTP on one channel.'),
  OtpRequestDetails: object({
    otp_request_id: uuid,
    status: { type: 'string', enum: OTP_STATUSES },
    cancel_reason: { enum: ['SUPERSEDED', 'CANCELED_BY_USER', null] },
    channels: channelList,
    masked_mobile_no: nullable({ type: 'string', example: '******1637' }),
    masked_email: nullable({ type: 'string', example: 'u***@example.com' }),
    source: { type: 'string' },
    type: { type: 'string' },
    code_length: { type: 'integer' },
    code_type: { type: 'string', enum: ['NUMERIC', 'ALPHABETIC', 'ALPHANUMERIC'] },
    attempts: { type: 'integer', minimum: 0, description: 'Wrong codes tried so far.' },
    max_attempts: { type: 'integer' },
    send_count: { type: 'integer', minimum: 1 },
    expires_at: dateTime,
    created_at: dateTime,
    verified_at: nullable(dateTime),
    deliveries: { type: 'array', items: ref('OtpDelivery') },
  }, 'An OTP request; never its code.'),
  OtpRequestAnswer: answer('OTP request found', ref('OtpRequestDetails')),
  InvalidPayload: {
    type: 'object',
    required: ['status', 'message', 'errors'],
    additionalProperties: false,
    properties: {
      status: { const: false },
      message: { const: 'Invalid Payload' },
      errors: {
        type: 'object',
        description: 'Every failing field at once, under its partner key, e.g. {"otp_code_length": ["The otp code length field must be at least 4."]}.',
        additionalProperties: { type: 'array', items: { type: 'string' }, minItems: 1 },
      },
    },
  },
  Failure: {
    type: 'object',
    required: ['status', 'message'],
    additionalProperties: false,
    properties: {
      status: { const: false },
      message: { type: 'string' },
      data: {
        type: 'object',
        required: ['reason'],
        additionalProperties: false,
        properties: {
          reason: { type: 'string', description: 'OTP_INVALID, OTP_EXPIRED, OTP_LOCKED, NOT_FOUND, LIMIT_REACHED, RATE_LIMITED, FRAUD_SUSPECTED, INVALID, …' },
          attempts_left: nullable({ type: 'integer', minimum: 0 }),
          retry_after: { type: 'integer', minimum: 1, description: 'Seconds (also in the Retry-After header).' },
        },
      },
    },
  },
};

const failure = (description: string) => ({ description, content: { 'application/json': { schema: ref('Failure') } } });
const invalid = { description: 'Invalid Payload: every failing field at once.', content: { 'application/json': { schema: ref('InvalidPayload') } } };
const ok = (name: string, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const COMMON = {
  401: failure('No key or JWT, or not a valid one.'),
  403: failure('The user may not use OTPs (read-only role).'),
  429: {
    ...failure('A limit (data.reason RATE_LIMITED) or the fraud guard (FRAUD_SUSPECTED: the number\'s range is paused) refused the request; retry after the time given.'),
    headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer', minimum: 1 } } },
  },
  500: failure('Server fault (no details are sent).'),
};
const BODY_ERRORS = { 400: failure('The body is not a JSON object, or a business outcome (data.reason) stopped it.'), 413: failure('The body is larger than 1 MB.'), 422: invalid };
const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const retryAfter = { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer', minimum: 1 } } };
/** send-otp only (docs/idempotency.md). */
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key', in: 'header', required: false,
  description: 'Makes retries safe (IETF draft httpapi-idempotency-key-header): 1-255 printable ASCII characters, as a Structured '
    + 'Field string ("…", quotes included) or bare. A retry with the same key and body within 24 h gets the first answer again and '
    + 'sends nothing; keys are per API key (or user).',
  schema: { type: 'string', pattern: '^[ -~]{1,257}$' },
};
const notFound = failure('No OTP request has this id that you may see (another user\'s id answers the same).');

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Countersign partner REST API',
      version: API_VERSION,
      description: 'The REST twin of the GraphQL OTP operations, in the partner send-otp style (snake_case JSON, '
        + '`{status, message, data}` answers, Laravel-worded 422 errors). The GraphQL API at /graphql has everything else.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/api/send-otp': {
        post: {
          operationId: 'sendOtp', summary: 'Send an OTP on one or more channels', requestBody: body('SendOtpRequest'), parameters: [IDEMPOTENCY_KEY],
          responses: {
            200: ok('SendOtpAnswer', 'Sent; delivery happens in the background. With an Idempotency-Key, a retry gets this answer again.'),
            ...BODY_ERRORS,
            400: failure('The body is not a JSON object, the Idempotency-Key header is malformed, or a business outcome (data.reason) stopped it.'),
            409: { ...failure('data.reason IDEMPOTENCY_KEY_IN_USE: the first request with this Idempotency-Key is still running; retry after the time given.'), headers: retryAfter },
            422: {
              description: 'Invalid Payload (every failing field at once), or data.reason IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used with a different body.',
              content: { 'application/json': { schema: { oneOf: [ref('InvalidPayload'), ref('Failure')] } } },
            },
            ...COMMON,
          },
        },
      },
      '/api/verify-otp': {
        post: {
          operationId: 'verifyOtp', summary: 'Check a code (each wrong code is one attempt)', requestBody: body('VerifyOtpRequest'),
          responses: {
            200: ok('VerifyOtpAnswer', 'The code is right; it cannot be used again.'),
            ...BODY_ERRORS,
            400: failure('Not verified: data.reason is OTP_INVALID (with attempts_left), OTP_EXPIRED or OTP_LOCKED; or the body is not a JSON object.'),
            ...COMMON,
          },
        },
      },
      '/api/resend-otp': {
        post: {
          operationId: 'resendOtp', summary: 'Send a pending OTP again (all its channels, or the ones given)', requestBody: body('ResendOtpRequest'),
          responses: { 200: ok('ResendOtpAnswer', 'Sent again.'), ...BODY_ERRORS, 404: notFound, ...COMMON },
        },
      },
      '/api/cancel-otp': {
        post: {
          operationId: 'cancelOtp', summary: 'Cancel a pending OTP', requestBody: body('CancelOtpRequest'),
          responses: { 200: ok('CancelOtpAnswer', 'Canceled.'), ...BODY_ERRORS, 404: notFound, ...COMMON },
        },
      },
      '/api/otp/{id}': {
        get: {
          operationId: 'getOtpRequest', summary: 'Status, per-channel delivery and masked recipients of an OTP you sent (admins: any)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The otp_request_id.' }],
          responses: { 200: ok('OtpRequestAnswer', 'The OTP request.'), 404: notFound, 401: COMMON[401], 500: COMMON[500] },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openApiDocument', summary: 'This document', security: [],
          responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (cs_…) or a JWT, as for /graphql.' } },
      schemas: SCHEMAS,
    },
  };
}

/** The committed openapi.json is exactly this text. */
export function printOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
