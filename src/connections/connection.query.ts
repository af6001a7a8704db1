import { BadUserInput } from '../core/errors';
import { decodeCursor } from '../core/pagination';
import { parseTimestamp } from '../core/timestamps';
import { isUuid } from '../core/ids';
import type { Queryable } from '../db/sql';
import { findModule } from '../records/modules';
import { RecordEntity, toRecordEntityFromJson } from '../records/record.entity';
import { liveRecordJoinSql, liveRecordLookupSql, liveRecordSql, recordJoinSql, recordJsonSql } from '../records/record.sql';
import { CONNECTION_COLUMNS, toConnectionEntity, type ConnectionEntity } from './connection.entity';
import { TODAY_SQL } from './connection-fit';
import { ConnectionDirection, ConnectionStatus } from './connection.enums';
import { encodeConnectionCursor, RecordConnectionView } from './record-connection.view';
import type { ConnectedCondition } from '../records/record-condition';
import { asOfConnectionsSql } from './connection-history';

/** A record-side filter, normalised so equal filters make equal loader keys. */
export interface RecordConnectionFilter {
  typeIds: string[] | null;
  direction: ConnectionDirection | null;
  status: ConnectionStatus | null;
  otherModule: string | null;
  /** Only connections in force that day (start ≤ day ≤ end, open ends infinite). */
  activeOn: string | null;
  /** The list as it stood at the end of that day (from the history); status is then computed for that day. */
  asOf: string | null;
}

export interface RecordConnectionsSlice {
  /** Up to `first + 1` views, oldest connection first, each with its other record. */
  views: RecordConnectionView[];
}

/** A connection's creation time to the microsecond, in UTC, whatever the session's DateStyle: the cursor's first part. */
const CURSOR_AT_SQL = `to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function normaliseRecordFilter(input: {
  typeIds?: string[] | null; direction?: ConnectionDirection | null; status?: ConnectionStatus | null; otherModule?: string | null;
  activeOn?: string | null;
} | null | undefined, asOf: string | null = null): RecordConnectionFilter {
  let otherModule: string | null = null;
  if (input?.otherModule) {
    const module = findModule(input.otherModule);
    if (!module) throw new BadUserInput(`There is no module "${input.otherModule}".`, 'filter');
    otherModule = module.name;
  }
  return {
    // Ids that are not UUIDs name no type: kept as a filter that matches nothing rather than reaching Postgres.
    typeIds: input?.typeIds ? [...new Set(input.typeIds.filter(isUuid).map((id) => id.toLowerCase()))].sort() : null,
    direction: input?.direction ?? null,
    status: input?.status ?? null,
    otherModule,
    activeOn: input?.activeOn ?? null,
    asOf,
  };
}

/** The (created_at, id) position after which a page starts. */
export function decodeConnectionCursor(after: string | null | undefined): [string, string] | null {
  if (!after) return null;
  const [at, id] = decodeCursor(after, [(v) => typeof v === 'string' && CURSOR_TIME.test(v) && parseTimestamp(v) !== null, 'uuid']);
  return [at as string, id as string];
}

/** Conditions of a record-side filter, for a query where `v.viewer_id` is the viewing record and `o` the other one. */
function recordFilterSql(filter: RecordConnectionFilter, params: unknown[]): string {
  const where: string[] = [];
  const param = (value: unknown) => { params.push(value); return `$${params.length}`; };
  if (filter.typeIds) where.push(`c.type_id = ANY(${param(filter.typeIds)}::uuid[])`);
  if (filter.direction === ConnectionDirection.OUTGOING) where.push('(c.symmetric OR c.source_id = v.viewer_id)');
  if (filter.direction === ConnectionDirection.INCOMING) where.push('(c.symmetric OR c.target_id = v.viewer_id)');
  if (filter.direction === ConnectionDirection.MUTUAL) where.push('c.symmetric');
  if (filter.status) where.push(statusSql(filter.status, filter.asOf ? `${param(filter.asOf)}::date` : TODAY_SQL));
  if (filter.otherModule) where.push(`o.module = ${param(filter.otherModule)}`);
  if (filter.activeOn) where.push(activeOnSql('c', param(filter.activeOn)));
  return where.length ? `AND ${where.join(' AND ')}` : '';
}

export function statusSql(status: ConnectionStatus, day: string = TODAY_SQL): string {
  return status === ConnectionStatus.ACTIVE
    ? `(c.end_date IS NULL OR c.end_date >= ${day})`
    : `(c.end_date IS NOT NULL AND c.end_date < ${day})`;
}

/** Connection alias `c` in force on the day `dayParam` (both ends inclusive, open ends infinite). */
export function activeOnSql(c: string, dayParam: string): string {
  return `(${c}.start_date IS NULL OR ${c}.start_date <= ${dayParam}::date) AND (${c}.end_date IS NULL OR ${c}.end_date >= ${dayParam}::date)`;
}

/**
 * The connections of `v.viewer_id` with their other record, as two branches — where the viewer is the source, and
 * where it is the target (a self-link only once) — so each is an index scan on (source_id|target_id, created_at, id)
 * whatever the table's size; one `OR` over both columns made the planner fall back to scanning. The other record is
 * looked up by id per connection ({@link liveRecordLookupSql}), whatever the statistics say; connections whose other
 * record is soft-deleted are hidden. `extra` (filters, cursor) may refer to `c`, `o` and `v.viewer_id`.
 */
function viewerConnectionsSql(select: string, extra: string, table = 'connections'): string {
  return `SELECT ${select} FROM ${table} c ${liveRecordLookupSql('o', 'c.target_id')}
           WHERE c.source_id = v.viewer_id ${extra}
          UNION ALL
          SELECT ${select} FROM ${table} c ${liveRecordLookupSql('o', 'c.source_id')}
           WHERE c.target_id = v.viewer_id AND c.source_id <> v.viewer_id ${extra}`;
}

/** A row of {@link viewerConnectionsSql} (with the cursor's time and the other record as `other`) as its view. */
function viewOf(row: Record<string, any>, filter: RecordConnectionFilter, partialOther = false): RecordConnectionView {
  const view = new RecordConnectionView(toConnectionEntity(row), row.viewer_id, row.cursor_at, filter.asOf);
  if (partialOther) {
    view.otherRecord = Object.assign(new RecordEntity(), { id: row.other.id, module: row.other.module, label: row.other.label });
    view.otherRecordPartial = true;
  } else {
    view.otherRecord = toRecordEntityFromJson(row.other);
  }
  return view;
}

/** The other record's fields a page may ask for and still be answered from {@link PARTIAL_OTHER_SQL}. */
export const PARTIAL_OTHER_FIELDS: ReadonlySet<string> = new Set(['id', 'module', 'label', '__typename']);
/** Only what {@link PARTIAL_OTHER_FIELDS} needs: not the record's `fields` JSON, nor its dates. */
const PARTIAL_OTHER_SQL = `jsonb_build_object('id', o.id, 'module', o.module, 'label', o.label)`;

/** One statement for a page of connections of every record in `recordIds`, each with its other record; keyed by lower-case id. */
export async function loadRecordConnectionSlices(
  db: Queryable, recordIds: readonly string[], filter: RecordConnectionFilter, first: number, after: string | null, partialOther = false,
): Promise<Map<string, RecordConnectionsSlice>> {
  const slices = new Map<string, RecordConnectionsSlice>(recordIds.map((id) => [id.toLowerCase(), { views: [] }]));
  const valid = recordIds.filter(isUuid);
  if (valid.length === 0 || filter.typeIds?.length === 0) return slices;
  const params: unknown[] = [valid, first + 1];
  const position = decodeConnectionCursor(after);
  const cursor = position ? `AND (c.created_at, c.id) > ($${params.push(position[0])}::timestamptz, $${params.push(position[1])}::uuid)` : '';
  const extra = `${recordFilterSql(filter, params)} ${cursor}`;
  const table = filter.asOf ? asOfConnectionsSql(`$${params.push(filter.asOf)}`) : 'connections';
  const rows: Array<Record<string, any>> = await db.query(
    `SELECT v.viewer_id, x.*
       FROM unnest($1::uuid[]) AS v(viewer_id)
       CROSS JOIN LATERAL (
         SELECT * FROM (${viewerConnectionsSql(`${CONNECTION_COLUMNS}, ${CURSOR_AT_SQL}, ${partialOther ? PARTIAL_OTHER_SQL : recordJsonSql('o')} AS other`, extra, table)}) AS both_sides
          ORDER BY both_sides.created_at, both_sides.id
          LIMIT $2) AS x`,
    params,
  );
  for (const row of rows) {
    slices.get(row.viewer_id)!.views.push(viewOf(row, filter, partialOther));
  }
  return slices;
}

/** One statement for the number of connections (matching `filter`) of every record in `recordIds`; keyed by lower-case id. */
export async function countRecordConnections(db: Queryable, recordIds: readonly string[], filter: RecordConnectionFilter): Promise<Map<string, number>> {
  const counts = new Map<string, number>(recordIds.map((id) => [id.toLowerCase(), 0]));
  const valid = recordIds.filter(isUuid);
  if (valid.length === 0 || filter.typeIds?.length === 0) return counts;
  const params: unknown[] = [valid];
  const extra = recordFilterSql(filter, params);
  const table = filter.asOf ? asOfConnectionsSql(`$${params.push(filter.asOf)}`) : 'connections';
  const rows: Array<{ viewer_id: string; n: number }> = await db.query(
    `SELECT v.viewer_id, (SELECT count(*)::int FROM (${viewerConnectionsSql('1', extra, table)}) AS both_sides) AS n
       FROM unnest($1::uuid[]) AS v(viewer_id)`,
    params,
  );
  for (const row of rows) counts.set(row.viewer_id, row.n);
  return counts;
}

/** Root listing (admins): connections whose two records are both visible, oldest first. */
export async function loadConnectionPage(
  db: Queryable, filter: { typeIds: string[] | null; status: ConnectionStatus | null; recordId: string | null }, first: number, after: string | null,
): Promise<{ rows: Array<{ connection: ConnectionEntity; cursor: string }>; count: () => Promise<number> }> {
  const params: unknown[] = [];
  const where = [liveRecordSql('s'), liveRecordSql('g')];
  const param = (value: unknown) => { params.push(value); return `$${params.length}`; };
  if (filter.typeIds) where.push(`c.type_id = ANY(${param(filter.typeIds)}::uuid[])`);
  if (filter.status) where.push(statusSql(filter.status));
  if (filter.recordId) where.push(`(c.source_id = ${param(filter.recordId)} OR c.target_id = $${params.length})`);
  const from = `FROM connections c ${recordJoinSql('s', 'c.source_id')} ${recordJoinSql('g', 'c.target_id')} WHERE ${where.join(' AND ')}`;
  const countParams = [...params];
  const position = decodeConnectionCursor(after);
  const cursor = position ? `AND (c.created_at, c.id) > (${param(position[0])}::timestamptz, ${param(position[1])}::uuid)` : '';
  const rows: Array<Record<string, any>> = await db.query(
    `SELECT ${CONNECTION_COLUMNS}, ${CURSOR_AT_SQL} ${from} ${cursor} ORDER BY c.created_at, c.id LIMIT ${param(first + 1)}`,
    params,
  );
  return {
    rows: rows.map((row) => ({ connection: toConnectionEntity(row), cursor: encodeConnectionCursor(row.cursor_at, row.id) })),
    count: async () => (await db.query(`SELECT count(*)::int AS n ${from}`, countParams))[0].n,
  };
}

/**
 * `records(where: { connected })`: SQL for "the record `recordIdSql` has a connection matching `condition` whose other
 * record is live". With `to`, the matching records are found from that record's connections (IDX_connections_source /
 * IDX_connections_target on the `to` side) and joined to the page by id; without it, each candidate record is probed
 * through the same indexes on its own side, so the records list keeps its index order and stops after the page.
 */
export function connectedRecordSql(condition: ConnectedCondition, recordIdSql: string, param: (value: unknown) => string): string {
  const extra: string[] = [];
  if (condition.typeId) extra.push(`c.type_id = ${param(condition.typeId)}::uuid`);
  if (condition.activeOn) extra.push(activeOnSql('c', param(condition.activeOn)));
  const and = extra.map((e) => ` AND ${e}`).join('');
  // The listed record as source (its other record the target), and as target; SIDE limits to one, symmetric types read either way.
  const asSource = condition.side === 'TARGET' ? ' AND c.symmetric' : '';
  const asTarget = condition.side === 'SOURCE' ? ' AND c.symmetric' : '';
  if (condition.to) {
    const to = param(condition.to);
    return `${recordIdSql} IN (
      SELECT c.source_id FROM connections c ${liveRecordJoinSql('o', 'c.target_id')} WHERE c.target_id = ${to}::uuid${and}${asSource}
      UNION ALL
      SELECT c.target_id FROM connections c ${liveRecordJoinSql('o', 'c.source_id')} WHERE c.source_id = ${to}::uuid${and}${asTarget})`;
  }
  return `(EXISTS (SELECT 1 FROM connections c ${liveRecordJoinSql('o', 'c.target_id')} WHERE c.source_id = ${recordIdSql}${and}${asSource})
        OR EXISTS (SELECT 1 FROM connections c ${liveRecordJoinSql('o', 'c.source_id')} WHERE c.target_id = ${recordIdSql}${and}${asTarget}))`;
}

/** One group of a record's connections: one type read with one label (the record's side), its size and first page. */
export interface RecordConnectionGroupSlice {
  typeId: string;
  direction: ConnectionDirection;
  totalCount: number;
  /** Up to `first + 1` views, oldest first, each with its other record. */
  views: RecordConnectionView[];
}

/**
 * One statement for the connections of every record in `recordIds` grouped by what they read as from the record (type
 * and side: OUTGOING, INCOMING or MUTUAL, hence one label), each group with its count and first `first` connections.
 */
export async function loadRecordConnectionGroups(
  db: Queryable, recordIds: readonly string[], filter: RecordConnectionFilter, first: number,
): Promise<Map<string, RecordConnectionGroupSlice[]>> {
  const groups = new Map<string, RecordConnectionGroupSlice[]>(recordIds.map((id) => [id.toLowerCase(), []]));
  const valid = recordIds.filter(isUuid);
  if (valid.length === 0 || filter.typeIds?.length === 0) return groups;
  const params: unknown[] = [valid, first + 1];
  const extra = recordFilterSql(filter, params);
  const table = filter.asOf ? asOfConnectionsSql(`$${params.push(filter.asOf)}`) : 'connections';
  const side = `CASE WHEN c.symmetric THEN 'MUTUAL' WHEN c.source_id = v.viewer_id THEN 'OUTGOING' ELSE 'INCOMING' END AS side`;
  const rows: Array<Record<string, any>> = await db.query(
    `SELECT v.viewer_id, x.*
       FROM unnest($1::uuid[]) AS v(viewer_id)
       CROSS JOIN LATERAL (
         SELECT g.*, count(*) OVER w AS group_count, row_number() OVER (w ORDER BY g.created_at, g.id) AS n
           FROM (${viewerConnectionsSql(`${CONNECTION_COLUMNS}, ${CURSOR_AT_SQL}, ${recordJsonSql('o')} AS other, ${side}`, extra, table)}) AS g
         WINDOW w AS (PARTITION BY g.type_id, g.side)) AS x
      WHERE x.n <= $2
      ORDER BY v.viewer_id, x.type_id, x.side, x.n`,
    params,
  );
  for (const row of rows) {
    const list = groups.get(row.viewer_id)!;
    let group = list.find((g) => g.typeId === row.type_id && g.direction === row.side);
    if (!group) {
      group = { typeId: row.type_id, direction: row.side, totalCount: Number(row.group_count), views: [] };
      list.push(group);
    }
    group.views.push(viewOf(row, filter));
  }
  return groups;
}
