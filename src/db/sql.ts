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
