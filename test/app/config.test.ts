import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/core/config';

test('defaults apply when the environment is empty', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({ PORT: 4000, HOST: '0.0.0.0', DATA_DIR: './.data', EMBEDDED_PG_PORT: 54329, MIGRATIONS_RUN: true, CORS_ORIGINS: [] });
});

test('every bad value is reported, one line naming each variable', () => {
  let error: unknown;
  try {
    loadConfig({ PORT: '70000', DATABASE_URL: 'mysql://x', MIGRATIONS_RUN: 'maybe', LOG_LEVEL: 'loud', SECRET_KEY: 'short' });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const lines = (error as Error).message.split('\n');
  expect(lines).toEqual(expect.arrayContaining([
    'Invalid configuration: PORT must be between 0 and 65535',
    'Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL',
    'Invalid configuration: MIGRATIONS_RUN must be true or false',
    'Invalid configuration: SECRET_KEY must be at least 32 characters',
  ]));
  expect(lines).toHaveLength(5);
  expect(lines.find((l) => l.includes('LOG_LEVEL'))).toMatch(/^Invalid configuration: LOG_LEVEL /);
});

test('production requires SECRET_KEY; JWT_PUBLIC_KEY and JWKS_URL exclude each other; CORS_ORIGINS splits', () => {
  expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow('Invalid configuration: SECRET_KEY is required when NODE_ENV=production');
  expect(() => loadConfig({ JWT_PUBLIC_KEY: 'x', JWKS_URL: 'https://example.com/jwks' })).toThrow(/only one of JWT_PUBLIC_KEY and JWKS_URL/);
  expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
});

test('DATABASE_URL requires SECRET_KEY, so every instance on one database keys OTP codes alike; the embedded default does not', () => {
  expect(() => loadConfig({ DATABASE_URL: 'postgres://db.example/countersign' })).toThrow(
    new ConfigError('Invalid configuration: SECRET_KEY is required when DATABASE_URL is set (every instance on that database must use the same key)'),
  );
  expect(loadConfig({ DATABASE_URL: 'postgres://db.example/countersign', SECRET_KEY: 'k'.repeat(32) }).SECRET_KEY).toBe('k'.repeat(32));
  expect(loadConfig({}).SECRET_KEY).toBeUndefined();
});

test('.env.example lists every variable the server reads', () => {
  const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  const listed = new Set(example.split('\n').filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l)).map((l) => l.split('=')[0]));
  expect(CONFIG_VARIABLES.filter((name) => !listed.has(name))).toEqual([]);
});
