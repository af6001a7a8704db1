import { setHistoryActor } from './connection-history';
import type { DataSource, EntityManager } from 'typeorm';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isUuid } from '../core/ids';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { queryRows, type Queryable } from '../db/sql';
import { optionalRecordJoinSql } from '../records/record.sql';
import { CONNECTION_COLUMNS, toConnectionEntity } from './connection.entity';
import type { EventPublisher } from '../events/event-publisher';
import { connectionEvent } from './connection.events';
import { deleteConnections } from './connection-writes';
import { END_CONNECTION_SET_SQL, MODULE_MISFIT_SQL, PROPERTY_MISFIT_SQL, SELF_LINK_SQL, TODAY_SQL } from './connection-fit';
import {
  IntegrityIssueKind, MAX_REPAIR_ACTIONS, RepairAction, type IntegrityFinding, type RepairActionInput, type RepairResultType,
} from './integrity.types';

const KINDS = Object.values(IntegrityIssueKind);

/**
 * Every finding, one row per (connection, kind), leaving out those an admin accepted. `$1` restricts to some
 * connections (or NULL for all), `$2` to some kinds (or NULL).
 */
const FINDINGS_SQL = `
  SELECT ${CONNECTION_COLUMNS}, f.kind, d.dup_id, t.name AS type_name, s.label AS source_label, g.label AS target_label,
         (s.id IS NOT NULL AND g.id IS NOT NULL) AS endpoints_exist,
         (c.end_date IS NOT NULL AND c.end_date < ${TODAY_SQL}) AS ended
    FROM connections c
    JOIN connection_types t ON t.id = c.type_id
    ${optionalRecordJoinSql('s', 'c.source_id')}
    ${optionalRecordJoinSql('g', 'c.target_id')}
    LEFT JOIN LATERAL (
      SELECT o.id AS dup_id FROM connections o
       WHERE o.type_id = c.type_id AND o.id <> c.id
         AND ((o.source_id = c.source_id AND o.target_id = c.target_id) OR (c.symmetric AND o.source_id = c.target_id AND o.target_id = c.source_id))
         AND daterange(COALESCE(o.start_date, '-infinity'::date), COALESCE(o.end_date, 'infinity'::date), '[]')
             && daterange(COALESCE(c.start_date, '-infinity'::date), COALESCE(c.end_date, 'infinity'::date), '[]')
         AND (o.created_at, o.id) < (c.created_at, c.id)
       ORDER BY o.created_at, o.id LIMIT 1) AS d ON true
    CROSS JOIN LATERAL (VALUES
      ('DANGLING_ENDPOINT', s.id IS NULL OR g.id IS NULL),
      ('MODULE_MISMATCH', s.id IS NOT NULL AND g.id IS NOT NULL AND ${MODULE_MISFIT_SQL}),
      ('INVALID_PROPERTIES', ${PROPERTY_MISFIT_SQL}),
      ('SELF_LINK', ${SELF_LINK_SQL}),
      ('DUPLICATE', d.dup_id IS NOT NULL),
      ('STALE_STATUS', NOT t.active AND (c.end_date IS NULL OR c.end_date >= ${TODAY_SQL}))
    ) AS f(kind, hit)
   WHERE f.hit AND NOT (f.kind = ANY(c.acknowledged_issues))
     AND ($1::uuid[] IS NULL OR c.id = ANY($1::uuid[]))
     AND ($2::text[] IS NULL OR f.kind = ANY($2::text[]))`;

/** Finds connections that no longer fit their type (modules, trashed endpoints, properties, dates) and repairs them. */
export class IntegrityService {
  constructor(private readonly db: DataSource, private readonly events: EventPublisher) {}

  async report(kinds: IntegrityIssueKind[] | null | undefined, first: number, after: string | null | undefined): Promise<PageSource<IntegrityFinding>> {
    const params: unknown[] = [null, kinds?.length ? kinds : null];
    let cursor = '';
    if (after) {
      const [connectionId, kind] = decodeCursor(after, ['uuid', (k) => KINDS.includes(k as IntegrityIssueKind)]);
      params.push(connectionId, kind);
      cursor = 'WHERE (x.id, x.kind) > ($3::uuid, $4::text)';
    }
    const rows = await this.db.query(`SELECT * FROM (${FINDINGS_SQL}) AS x ${cursor} ORDER BY x.id, x.kind LIMIT ${first + 1}`, params);
    return {
      rows: rows.map(toFinding),
      first,
      cursorOf: (finding) => finding.cursor,
      count: async () => (await this.db.query(`SELECT count(*)::int AS n FROM (${FINDINGS_SQL}) AS x`, params.slice(0, 2)))[0].n,
    };
  }

  /** Applies (or, in a dry run, only describes) one action per finding, in order, in one transaction. */
  async repair(actions: RepairActionInput[], dryRun: boolean, actorId: string | null = null): Promise<RepairResultType[]> {
    if (actions.length > MAX_REPAIR_ACTIONS) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `A repair takes at most ${MAX_REPAIR_ACTIONS} actions.`, ['actions']);
    }
    return this.db.transaction(async (tx) => {
      await setHistoryActor(tx, actorId);
      const ids = [...new Set(actions.map((a) => a.connectionId).filter(isUuid).map((id) => id.toLowerCase()))];
      await tx.query('SELECT id FROM connections WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [ids]);
      const open = new Map((await findingsOf(tx, ids)).map((f) => [`${f.connectionId}:${f.kind}`, f]));
      const deleted = new Set<string>();
      const results: RepairResultType[] = [];
      for (const [index, input] of actions.entries()) {
        const id = String(input.connectionId).toLowerCase();
        const base = { connectionId: input.connectionId, kind: input.kind, action: input.action, applied: false };
        const refuse = (code: ErrorCode, message: string) =>
          results.push({ ...base, message, userErrors: [new UserError(code, message, ['actions', String(index)])] });
        const finding = open.get(`${id}:${input.kind}`);
        if (deleted.has(id)) { refuse(ErrorCode.CONFLICT, `Connection ${id} is deleted by an earlier action.`); continue; }
        if (!finding) { refuse(ErrorCode.NOT_FOUND, `There is no open ${input.kind} finding for connection ${input.connectionId}.`); continue; }
        if (!finding.repairs.includes(input.action)) {
          refuse(ErrorCode.INVALID, `${input.kind} on connection ${id} can be repaired with ${finding.repairs.join(', ')}, not ${input.action}.`);
          continue;
        }
        if (!dryRun) await apply(tx, id, input, this.events);
        if (input.action === RepairAction.DELETE) deleted.add(id);
        results.push({ ...base, applied: !dryRun, message: describe(input.action, finding, dryRun), userErrors: [] });
      }
      return results;
    });
  }
}

async function findingsOf(db: Queryable, ids: string[]): Promise<IntegrityFinding[]> {
  if (ids.length === 0) return [];
  return (await db.query(FINDINGS_SQL, [ids, null])).map(toFinding);
}

/** One repair, with its `connection.deleted` / `connection.ended` in the repair's transaction (END is offered only while not ended). */
async function apply(tx: EntityManager, id: string, input: RepairActionInput, events: EventPublisher): Promise<void> {
  switch (input.action) {
    case RepairAction.DELETE: {
      await deleteConnections(tx, events, 'c.id = $1', [id]);
      return;
    }
    case RepairAction.END: {
      const [row] = await queryRows(tx,
        `UPDATE connections c SET ${END_CONNECTION_SET_SQL}, acknowledged_issues = array_append(c.acknowledged_issues, $2), updated_at = now() WHERE c.id = $1
         RETURNING ${CONNECTION_COLUMNS}`, [id, input.kind]);
      await events.publish(tx, connectionEvent('connection.ended', toConnectionEntity(row)));
      return;
    }
    case RepairAction.IGNORE:
      await tx.query('UPDATE connections SET acknowledged_issues = array_append(acknowledged_issues, $2), updated_at = now() WHERE id = $1', [id, input.kind]);
      return;
  }
}

function describe(action: RepairAction, finding: IntegrityFinding, dryRun: boolean): string {
  const what = `connection ${finding.connectionId}`;
  switch (action) {
    case RepairAction.DELETE: return `${dryRun ? 'Would delete' : 'Deleted'} ${what}.`;
    case RepairAction.END: return `${dryRun ? 'Would end' : 'Ended'} ${what} and accept its ${finding.kind} finding as history.`;
    case RepairAction.IGNORE: return `${dryRun ? 'Would leave' : 'Left'} ${what} as it is; its ${finding.kind} finding ${dryRun ? 'would be' : 'is'} no longer reported.`;
  }
}

function toFinding(row: Record<string, any>): IntegrityFinding {
  const kind = row.kind as IntegrityIssueKind;
  const between = `"${row.source_label ?? '(missing record)'}" ${row.type_name} "${row.target_label ?? '(missing record)'}"`;
  const messages: Record<IntegrityIssueKind, string> = {
    DANGLING_ENDPOINT: `${between}: ${row.source_label == null ? `source record ${row.source_id}` : `target record ${row.target_id}`} no longer exists.`,
    MODULE_MISMATCH: `${between}: the type no longer links these modules.`,
    INVALID_PROPERTIES: `${between}: the properties no longer satisfy the type.`,
    SELF_LINK: `${between}: the type does not allow a record to be connected to itself.`,
    DUPLICATE: `${between}: duplicates the older connection ${row.dup_id} for overlapping dates.`,
    STALE_STATUS: `${between}: still active although the type "${row.type_name}" is inactive.`,
  };
  const endable = !row.ended && kind !== IntegrityIssueKind.DANGLING_ENDPOINT && kind !== IntegrityIssueKind.DUPLICATE;
  return {
    kind,
    connectionId: row.id,
    typeId: row.type_id,
    sourceId: row.source_id,
    targetId: row.target_id,
    message: messages[kind],
    repairs: endable ? [RepairAction.END, RepairAction.DELETE, RepairAction.IGNORE] : [RepairAction.DELETE, RepairAction.IGNORE],
    duplicateOfId: row.dup_id ?? null,
    connection: row.endpoints_exist ? toConnectionEntity(row) : null,
    cursor: encodeCursor([row.id, kind]),
  };
}
