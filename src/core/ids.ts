const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, and must not reach Postgres as a uuid parameter. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The built-in admin user created by the first migration. */
export const BUILT_IN_ADMIN_ID = '00000000-0000-4000-8000-000000000001';
export const BUILT_IN_ADMIN_EMAIL = 'admin@countersign.local';
