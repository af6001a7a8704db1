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
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  ADMIN_API_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_PUBLIC_KEY: optionalText,
  JWKS_URL: z.string().url('must be a URL').optional(),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z.string().default(''),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(5000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10000),
  OTP_RULES_LIMIT: z.coerce.number().int().min(0).default(100),
});

/** The names of every variable the server reads (`.env.example` must list each). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

export type AppConfig = Omit<z.infer<typeof schema>, 'CORS_ORIGINS'> & { CORS_ORIGINS: string[] };

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
  return {
    ...value,
    CORS_ORIGINS: value.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
  };
}
