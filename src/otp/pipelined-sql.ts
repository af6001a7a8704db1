import { escapeLiteral } from 'pg';

/** One parameterised statement, to be sent with others in one message (see {@link pipelined}). */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Several statements as one simple-query message: one round trip, run by Postgres as one implicit transaction (an
 * error in any rolls back all), each statement with its own snapshot (READ COMMITTED), so a lock taken by the first is
 * held, and what others committed while waiting for it is seen, by the ones after. The simple protocol has no
 * parameters, so each `$n` becomes a quoted literal (`pg.escapeLiteral`, the driver's own quoting): an untyped literal
 * resolves to the type its place asks for, as an untyped parameter does.
 */
export function pipelined(statements: Statement[]): string {
  return statements.map((s) => inline(s.sql, s.params)).join(';\n');
}

export function inline(sql: string, params: unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new Error(`statement has no parameter $${n}`);
    return literal(params[index]);
  });
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('a statement parameter is not a finite number');
    return escapeLiteral(String(value));
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return escapeLiteral(value.toISOString());
  if (Array.isArray(value)) return escapeLiteral(`{${value.map(arrayElement).join(',')}}`);
  if (typeof value === 'object') return escapeLiteral(JSON.stringify(value));
  throw new Error(`a statement parameter of type ${typeof value} cannot be inlined`);
}

function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error('only arrays of scalars can be inlined');
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
