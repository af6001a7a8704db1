import { decodeCursor, encodeCursor, type CursorPart, type PageSource } from '../core/pagination';
import { queryRows, type Queryable } from './sql';

/** A list read newest first by (created_at, id): a table, its filters and how a row becomes an entity. */
export interface NewestFirstList<T> {
  /** Names the list's cursors, so one list's cursor is refused by another. */
  list: string;
  table: string;
  /** The type of the `id` column; a cursor's id must be one (a bigint of 18 digits at most: a made-up one cannot overflow). */
  idType: 'uuid' | 'bigint';
  /** Filters, with their `$n` numbered over `params`; the count uses them too. */
  where: string[];
  params: unknown[];
  toEntity: (row: Record<string, any>) => T;
}

const ID_CHECKS: Record<NewestFirstList<unknown>['idType'], CursorPart> = {
  uuid: 'uuid',
  bigint: (v) => typeof v === 'string' && /^\d{1,18}$/.test(v),
};

/**
 * A keyset page of `spec`, newest first, continuing strictly after `after`: a page's place does not move when rows
 * arrive meanwhile (an offset would show the newest arrivals' predecessors again), and a deep page costs what the first
 * does. The cursor is the last row's created_at as Postgres' text (which keeps the microseconds a JS Date would cut,
 * and so skip rows) and its id.
 */
export async function newestFirstPage<T>(db: Queryable, spec: NewestFirstList<T>, first: number, after?: string | null): Promise<PageSource<T>> {
  const where = [...spec.where];
  const params = [...spec.params];
  if (after) {
    const [, createdAt, id] = decodeCursor(after, [(v) => v === spec.list, 'timestamp', ID_CHECKS[spec.idType]]);
    where.push(`(created_at, id) < ($${params.push(createdAt)}::timestamptz, $${params.push(id)}::${spec.idType})`);
  }
  const clause = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
  const rows = await queryRows(db,
    `SELECT *, created_at::text AS created_at_key FROM ${spec.table} ${clause(where)} ORDER BY created_at DESC, id DESC LIMIT $${params.push(first + 1)}`, params);
  const keys = new Map<T, [string, string]>();
  const entities = rows.map((row) => {
    const entity = spec.toEntity(row);
    keys.set(entity, [row.created_at_key as string, String(row.id)]);
    return entity;
  });
  return {
    rows: entities,
    first,
    cursorOf: (entity) => encodeCursor([spec.list, ...keys.get(entity)!]),
    count: async () => (await queryRows(db, `SELECT count(*)::int AS n FROM ${spec.table} ${clause(spec.where)}`, spec.params))[0].n,
  };
}
