import { BadUserInput } from '../core/errors';
import { decodeCursor, encodeCursor } from '../core/pagination';
import type { Queryable } from '../db/sql';
import { ConnectionHistoryAction } from './connection-history.entity';

/**
 * History of connections (issue 13, item 4) — the one hook.
 *
 * Every INSERT, UPDATE and DELETE of a `connections` row is recorded by the `TRG_connections_history` row trigger
 * into `connection_history`, in the same transaction as the write, whoever writes: the connection service, type
 * policies (END/DELETE), integrity repair, a record merge moving/folding/ending connections, a hard record delete
 * cascading. A writer names the acting user once per transaction with {@link setHistoryActor} before its writes;
 * the trigger reads it (`countersign.actor_id`, transaction-local). An UPDATE that changes none of the recorded
 * values (only `acknowledged_issues` or `updated_at`) writes no row.
 */
export async function setHistoryActor(tx: Queryable, userId: string | null | undefined): Promise<void> {
  await tx.query(`SELECT set_config('countersign.actor_id', $1, true)`, [userId ?? '']);
}

/** Recorded values (keys of `oldValues` / `newValues`, names of `changedFields`). */
export type HistoryValues = Record<string, unknown>;

export interface ConnectionHistoryRow {
  id: string;
  connectionId: string;
  action: ConnectionHistoryAction;
  actorId: string | null;
  at: Date;
  oldValues: HistoryValues | null;
  newValues: HistoryValues | null;
  changedFields: string[];
  cursor: string;
}

export function decodeHistoryCursor(after: string | null | undefined): string | null {
  if (!after) return null;
  const [id] = decodeCursor(after, [(v) => typeof v === 'string' && /^\d{1,18}$/.test(v)]);
  return id as string;
}

/**
 * Pages of several connections' histories at once (a page of connections asking for `history`: one statement, not one
 * per connection), oldest first, keyset on the history id: up to `first + 1` rows per connection, each connection's
 * looked up through its index (IDX_connection_history_connection), after the entry `afterId` (a decoded cursor,
 * {@link decodeHistoryCursor}). Keyed by connection id (lower case).
 */
export async function loadHistoryPages(db: Queryable, connectionIds: string[], first: number, afterId: string | null): Promise<Map<string, ConnectionHistoryRow[]>> {
  const rows: Array<Record<string, any>> = await db.query(
    `SELECT h.id::text AS id, h.connection_id, h.action, h.actor_id, h.at, h.old_values, h.new_values, h.changed_fields
       FROM unnest($1::uuid[]) AS c(id)
       CROSS JOIN LATERAL (
         SELECT * FROM connection_history h
          WHERE h.connection_id = c.id AND ($2::bigint IS NULL OR h.id > $2::bigint)
          ORDER BY h.id LIMIT $3
       ) h
      ORDER BY h.connection_id, h.id`,
    [connectionIds, afterId, first + 1],
  );
  const pages = new Map<string, ConnectionHistoryRow[]>(connectionIds.map((id) => [id.toLowerCase(), []]));
  for (const r of rows) {
    pages.get(r.connection_id)?.push({
      id: r.id, connectionId: r.connection_id, action: r.action, actorId: r.actor_id, at: r.at,
      oldValues: r.old_values, newValues: r.new_values, changedFields: r.changed_fields, cursor: encodeCursor([r.id]),
    });
  }
  return pages;
}

/** How many history rows each connection has (for `totalCount`), keyed by connection id (lower case). */
export async function countHistories(db: Queryable, connectionIds: string[]): Promise<Map<string, number>> {
  const rows: Array<{ connection_id: string; n: number }> = await db.query(
    'SELECT connection_id, count(*)::int AS n FROM connection_history WHERE connection_id = ANY($1::uuid[]) GROUP BY connection_id', [connectionIds]);
  return new Map(rows.map((r) => [r.connection_id, r.n]));
}

/** `asOf` must be a day that has happened: today (UTC) or earlier. */
export function checkAsOf(asOf: string | null | undefined, today: string): string | null {
  if (asOf == null) return null;
  if (asOf > today) throw new BadUserInput(`asOf (${asOf}) is in the future; history reaches today (${today}) at most.`, 'asOf');
  return asOf;
}

/**
 * A derived table with the columns of `connections`, holding the connections of `v.viewer_id` as they stood at the end
 * of day `asOfParam` (UTC): for every connection the record ever had (history rows naming it as source or target up to
 * then, via IDX_connection_history_source/target), its latest history row up to then, unless that row is a deletion
 * or no longer names the record (moved away by a merge).
 */
export function asOfConnectionsSql(asOfParam: string): string {
  const until = `((${asOfParam}::date + 1)::timestamp AT TIME ZONE 'UTC')`;
  return `(SELECT s.connection_id AS id, (s.nv->>'typeId')::uuid AS type_id, (s.nv->>'sourceId')::uuid AS source_id,
                  (s.nv->>'targetId')::uuid AS target_id, (s.nv->>'symmetric')::boolean AS symmetric,
                  (s.nv->>'startDate')::date AS start_date, (s.nv->>'endDate')::date AS end_date,
                  COALESCE(s.nv->'properties', '{}'::jsonb) AS properties, s.nv->>'notes' AS notes,
                  (s.nv->>'contextRecordId')::uuid AS context_record_id,
                  '{}'::varchar[] AS acknowledged_issues, (s.nv->>'createdBy')::uuid AS created_by,
                  (s.nv->>'createdAt')::timestamptz AS created_at, s.at AS updated_at
             FROM (SELECT DISTINCT ON (h.connection_id) h.connection_id, h.action, h.at, h.new_values AS nv
                     FROM connection_history h
                    WHERE h.connection_id IN (
                            SELECT k.connection_id FROM connection_history k WHERE k.source_id = v.viewer_id AND k.at < ${until}
                            UNION
                            SELECT k.connection_id FROM connection_history k WHERE k.target_id = v.viewer_id AND k.at < ${until})
                      AND h.at < ${until}
                    ORDER BY h.connection_id, h.id DESC) AS s
            WHERE s.action <> '${ConnectionHistoryAction.DELETED}')`;
}
