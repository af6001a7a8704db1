import DataLoader from 'dataloader';
import { isUuid } from './ids';

/**
 * A per-request loader batching every `load(id)` of one tick into one `WHERE id = ANY($1)` query, answering in key
 * order (null where nothing matched). Features pass their data source's prepared queries (`preparedQueriesOf`), so
 * the statement is planned once per connection, not once per request.
 */
export function byIdLoader<T extends { id: string }>(
  db: { query(sql: string, params?: unknown[]): Promise<any[]> }, table: string, map: (row: Record<string, any>) => T,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows: Array<Record<string, any>> = valid.length ? await db.query(`SELECT * FROM ${table} WHERE id = ANY($1::uuid[])`, [valid]) : [];
    const byId = new Map(rows.map((row) => [String(row.id), map(row)]));
    return ids.map((id) => byId.get(String(id).toLowerCase()) ?? null);
  }, { maxBatchSize: 1000 });
}

/**
 * Hands each of `items` what `loader` answers for its key (one batch for the distinct keys) through `attach`, so that
 * the fields reading it answer synchronously instead of with a promise per item. A key with no answer attaches
 * nothing: the field's own loader call answers it as before.
 */
export async function attachLoaded<T, K, V>(
  items: readonly T[], keyOf: (item: T) => K, loader: DataLoader<K, V | null>, attach: (item: T, value: V) => void,
): Promise<void> {
  if (items.length === 0) return;
  const keys = [...new Set(items.map(keyOf))];
  const values = await loader.loadMany(keys);
  const byKey = new Map(keys.map((key, i) => [key, values[i]]));
  for (const item of items) {
    const value = byKey.get(keyOf(item));
    if (value && !(value instanceof Error)) attach(item, value);
  }
}
