/** Anything with TypeORM's `query` (a DataSource or a transaction's EntityManager). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<any>;
}

/**
 * Runs SQL and returns its rows. TypeORM answers UPDATE/DELETE with `[rows, rowCount]` and everything else with
 * the rows; this hides the difference so `... RETURNING *` reads the same everywhere.
 */
export async function queryRows<T = Record<string, any>>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
  return result;
}

/** Postgres refused a row because a unique index already holds its key (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string; driverError?: { code?: string } })?.code === '23505'
    || (error as { driverError?: { code?: string } })?.driverError?.code === '23505';
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i;

/** The database could not be reached (down, restarting, or the connection dropped), as opposed to a query error. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error as any, depth = 0; current && depth < 5; current = current.driverError ?? current.thrownValue ?? current.cause ?? current.originalError, depth += 1) {
    if (UNAVAILABLE_CODES.has(current.code) || UNAVAILABLE_MESSAGES.test(String(current.message ?? ''))) return true;
  }
  return false;
}

/** The SQLSTATE of a Postgres error however it is wrapped (TypeORM, GraphQL), or null. */
export function sqlState(error: unknown): string | null {
  for (let current = error as any, depth = 0; current && depth < 5; current = current.driverError ?? current.thrownValue ?? current.cause ?? current.originalError, depth += 1) {
    if (typeof current.code === 'string' && /^[0-9A-Z]{5}$/.test(current.code)) return current.code;
  }
  return null;
}

/** Postgres stopped the statement: `statement_timeout` (DB_STATEMENT_TIMEOUT_MS) ran out, or it was cancelled. */
export function isStatementTimeout(error: unknown): boolean {
  return sqlState(error) === '57014';
}

/** Postgres refused a value (SQLSTATE class 22: bad date, number out of range, NUL in text…). */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith('22') ?? false;
}
