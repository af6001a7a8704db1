import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: 'must be true or false' }) })
  .transform((v) => v === 'true' || v === '1');

const port = z.coerce
  .number({ invalid_type_error: 'must be a port number' })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL');

const optionalText = z.string().min(1).optional();

/** libphonenumber-js number types a fraud-guard list may name. */
export const NUMBER_TYPES = ['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP',
  'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL', 'UNKNOWN'] as const;

const listOf = (check: (item: string) => boolean, message: string) => z.string()
  .transform((text) => text.split(',').map((item) => item.trim().toUpperCase()).filter(Boolean))
  .refine((items) => items.every(check), message);

const countryList = listOf((c) => /^[A-Z]{2}$/.test(c), 'must be comma-separated two-letter country codes, e.g. IN,GB');

/** Every environment variable the server reads, with its default. `.env.example` mirrors this list. */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  MIGRATIONS_RUN: booleanFlag.default('true'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Postgres `statement_timeout` of the server's pool connections: no statement of a request runs longer. 0 = none. */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(5000),
  /**
   * Postgres `idle_in_transaction_session_timeout` of the pool's connections: a transaction left open and idle this
   * long (a hung request, a bug) is ended by Postgres, its locks freed, and the connection replaced. 0 = none.
   */
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /**
   * Postgres `random_page_cost` of the server's pool connections (the planner's price of an index lookup; Postgres's
   * default 4 assumes spinning disks). 1.1 suits SSDs and cached data; 0 keeps the server's own setting.
   */
  DB_RANDOM_PAGE_COST: z.coerce.number().min(0).max(100).default(1.1),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  ADMIN_API_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_PUBLIC_KEY: optionalText,
  JWKS_URL: z.string().url('must be a URL').optional(),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  /** Oldest JWT accepted, by its `iat` (required when this is above 0); `exp` is required regardless. */
  JWT_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(86400),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z.string().default(''),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(50000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10000),
  OTP_RULES_LIMIT: z.coerce.number().int().min(0).default(100),
  /** Public base URL of this server (e.g. https://otp.example.com): Twilio status callbacks and their signatures use it. */
  PUBLIC_URL: z.string().url('must be a URL').optional(),
  // OTP delivery providers, one per channel. The `log` providers print codes to the log: development only.
  EMAIL_PROVIDER: z.enum(['log', 'smtp']).default('log'),
  SMTP_URL: z.string().regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL').optional(),
  SMTP_FROM: z.string().email('must be an email address').default('no-reply@countersign.local'),
  /** Display name of SMTP_FROM on messages the server composes itself (OTP rules). */
  SMTP_FROM_NAME: z.string().trim().min(1).max(200).default('Countersign'),
  SMS_PROVIDER: z.enum(['log', 'twilio']).default('log'),
  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_FROM: optionalText,
  TWILIO_BASE_URL: z.string().url('must be a URL').default('https://api.twilio.com'),
  WHATSAPP_PROVIDER: z.enum(['log', 'meta']).default('log'),
  WHATSAPP_TOKEN: optionalText,
  WHATSAPP_PHONE_NUMBER_ID: optionalText,
  WHATSAPP_BASE_URL: z.string().url('must be a URL').default('https://graph.facebook.com/v21.0'),
  WHATSAPP_APP_SECRET: optionalText,
  WHATSAPP_VERIFY_TOKEN: optionalText,
  WHATSAPP_TEMPLATE_LANGUAGE: z.string().min(2).default('en'),
  DEFAULT_COUNTRY_CODE: z.string().regex(/^\d{1,3}$/, 'must be 1-3 digits').default('91'),
  OTP_TEST_RECIPIENTS: z.string().default(''),
  // OTP policy defaults (a later OTP rule may override them per send).
  OTP_VALIDITY_SECONDS: z.coerce.number().int().min(30).max(86400).default(600),
  OTP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  OTP_RESEND_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(30),
  OTP_MAX_RESENDS: z.coerce.number().int().min(0).max(100).default(5),
  OTP_RESEND_MODE: z.enum(['NEW_CODE', 'SAME_CODE_IF_VALID']).default('NEW_CODE'),
  // Abuse limits, configurable and shared by every instance through Postgres.
  OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: z.coerce.number().int().min(1).default(5),
  OTP_SEND_LIMIT_PER_RECIPIENT_DAY: z.coerce.number().int().min(1).default(20),
  OTP_SEND_LIMIT_PER_KEY_MINUTE: z.coerce.number().int().min(1).default(60),
  OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: z.coerce.number().int().min(1).default(100),
  // Fraud guard (docs/fraud-guard.md): screening, geo permissions, prefix protection, extra limits.
  /** Number types SMS/WhatsApp may go to (libphonenumber-js types); everything else is refused, fixed lines included. */
  FRAUD_ALLOWED_NUMBER_TYPES: listOf((t) => (NUMBER_TYPES as readonly string[]).includes(t), `must be comma-separated types among ${NUMBER_TYPES.join(', ')}`)
    .default('MOBILE,FIXED_LINE_OR_MOBILE,PERSONAL_NUMBER,VOIP'),
  /** What countries not listed below get; admins can change lists and default at run time. */
  FRAUD_GEO_DEFAULT: z.enum(['ALLOW', 'BLOCK', 'MONITOR']).default('ALLOW'),
  FRAUD_GEO_ALLOW: countryList.default(''),
  FRAUD_GEO_BLOCK: countryList.default(''),
  FRAUD_GEO_MONITOR: countryList.default(''),
  /** When a signal cannot be computed: OPEN sends, CLOSED refuses, CLOSED_UNLESS_ALLOWED refuses unless the country is on the allow list. */
  FRAUD_FAIL_POLICY: z.enum(['OPEN', 'CLOSED', 'CLOSED_UNLESS_ALLOWED']).default('CLOSED_UNLESS_ALLOWED'),
  FRAUD_PREFIX_WINDOW_SECONDS: z.coerce.number().int().min(60).default(3600),
  FRAUD_PREFIX_MIN_SENDS: z.coerce.number().int().min(1).default(20),
  /** Block a prefix when its sends in the window verify below this share (0-1). */
  FRAUD_PREFIX_MIN_CONVERSION: z.coerce.number().min(0).max(1).default(0.2),
  /** Block lengths in hours, one per repeat within FRAUD_BLOCK_ESCALATION_DAYS (the last one repeats). */
  FRAUD_BLOCK_HOURS: z.string().regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be comma-separated whole hours, e.g. 12,24,168')
    .transform((text) => text.split(',').map((h) => Number(h.trim()))).refine((hours) => hours.every((h) => h >= 1), 'hours must be at least 1').default('12,24,168'),
  FRAUD_BLOCK_ESCALATION_DAYS: z.coerce.number().int().min(1).default(30),
  /** Days of fraud events (sends, verifications, refusals) kept for the summary and the blocked-sends list; 0 = all. */
  FRAUD_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(90),
  // Extra send limits, shared by every instance (0 = off).
  OTP_SEND_LIMIT_PER_USER_MINUTE: z.coerce.number().int().min(0).default(0),
  OTP_SEND_LIMIT_PER_KEY_DAY: z.coerce.number().int().min(0).default(0),
  OTP_SEND_LIMIT_PER_IP_MINUTE: z.coerce.number().int().min(0).default(0),
  OTP_SEND_LIMIT_GLOBAL_MINUTE: z.coerce.number().int().min(0).default(0),
  // Delivery worker (pg-boss).
  OTP_WORKER: booleanFlag.default('true'),
  OTP_DELIVERY_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(3),
  OTP_DELIVERY_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).default(5),
  OTP_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
  /** How often the worker settles expired OTPs and publishes `otp.expired`. */
  OTP_EXPIRY_SWEEP_MS: z.coerce.number().int().min(100).default(5000),
  // Webhooks out (docs/events.md).
  /** Lets webhook endpoints resolve to loopback/private addresses (tests, local development). */
  WEBHOOKS_ALLOW_PRIVATE: booleanFlag.default('false'),
  /** This process sends webhooks (every instance may; they share the work). */
  WEBHOOKS_WORKER: booleanFlag.default('true'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(10000),
  WEBHOOK_MAX_RESPONSE_BYTES: z.coerce.number().int().min(0).default(65536),
  /** How often due retries are looked for (new events wake the dispatcher at once). */
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  /** Provider status callbacks that arrive before their message id is recorded are kept this long, at most this many. */
  OTP_EARLY_CALLBACK_TTL_SECONDS: z.coerce.number().int().min(1).max(86400).default(600),
  OTP_EARLY_CALLBACKS_MAX: z.coerce.number().int().min(0).default(10000),
  /** A key whose first request has not finished after this long is taken over by a retry (the first one's process is presumed dead). */
  IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
});

/** The names of every variable the server reads (`.env.example` must list each). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

export type AppConfig = Omit<z.infer<typeof schema>, 'CORS_ORIGINS' | 'OTP_TEST_RECIPIENTS'> & {
  CORS_ORIGINS: string[];
  /** Recipient (E.164 mobile or lower-case email) → fixed code; such sends skip delivery. */
  OTP_TEST_RECIPIENTS: Map<string, string>;
};

export class ConfigError extends Error {}

/** Reads and validates the environment; a bad value throws one line per variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(lines.join('\n'));
  }
  const value = parsed.data;
  if (value.JWT_PUBLIC_KEY && value.JWKS_URL) {
    throw new ConfigError('Invalid configuration: set only one of JWT_PUBLIC_KEY and JWKS_URL');
  }
  if (value.NODE_ENV === 'production' && !value.SECRET_KEY) {
    throw new ConfigError('Invalid configuration: SECRET_KEY is required when NODE_ENV=production');
  }
  // A key generated into each instance's own DATA_DIR would make codes sent through one instance fail on another.
  if (value.DATABASE_URL && !value.SECRET_KEY) {
    throw new ConfigError('Invalid configuration: SECRET_KEY is required when DATABASE_URL is set (every instance on that database must use the same key)');
  }
  // the prefix counters count events over the last window: the events must outlive it
  if (value.FRAUD_EVENTS_RETENTION_DAYS > 0 && value.FRAUD_EVENTS_RETENTION_DAYS * 86_400 < value.FRAUD_PREFIX_WINDOW_SECONDS) {
    throw new ConfigError(`Invalid configuration: FRAUD_EVENTS_RETENTION_DAYS must cover FRAUD_PREFIX_WINDOW_SECONDS (${value.FRAUD_PREFIX_WINDOW_SECONDS} s), or be 0 to keep every event`);
  }
  const missing = missingProviderSettings(value);
  if (missing.length) throw new ConfigError(missing.map((line) => `Invalid configuration: ${line}`).join('\n'));
  return {
    ...value,
    CORS_ORIGINS: value.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    OTP_TEST_RECIPIENTS: parseTestRecipients(value.OTP_TEST_RECIPIENTS),
  };
}

function missingProviderSettings(value: z.infer<typeof schema>): string[] {
  const needs: Array<[boolean, string[]]> = [
    [value.EMAIL_PROVIDER === 'smtp', ['SMTP_URL']],
    [value.SMS_PROVIDER === 'twilio', ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']],
    [value.WHATSAPP_PROVIDER === 'meta', ['WHATSAPP_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID']],
  ];
  return needs.flatMap(([active, names]) => (active ? names : [])
    .filter((name) => !value[name as keyof typeof value])
    .map((name) => `${name} is required by the chosen provider`));
}

/** `+919876543210:123456,qa@example.com:654321` → recipient → code. */
function parseTestRecipients(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf(':');
    const recipient = entry.slice(0, at).trim();
    const code = entry.slice(at + 1).trim();
    if (at <= 0 || !/^[A-Za-z0-9]{4,10}$/.test(code)) {
      throw new ConfigError(`Invalid configuration: OTP_TEST_RECIPIENTS entry "${entry}" must be recipient:code (code of 4-10 letters or digits)`);
    }
    const key = recipient.includes('@') ? recipient.toLowerCase() : `+${recipient.replace(/[^\d]/g, '')}`; // mobiles as E.164
    map.set(key, code.toUpperCase());
  }
  return map;
}
