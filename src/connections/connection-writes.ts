import { queryRows, type Queryable } from '../db/sql';
import { END_CONNECTION_SET_SQL } from './connection-fit';
import type { EventPublisher } from '../events/event-publisher';
import { CONNECTION_COLUMNS, toConnectionEntity, type ConnectionEntity, type ConnectionProperties } from './connection.entity';
import { connectionEvent } from './connection.events';

/**
 * The statements a record merge, a record created with its links, and the bulk deletes (a type's policy, an integrity
 * repair, a hard-deleted record) run on `connections`: every change those make to a connection goes through one of
 * these, so whatever must follow each change (history, events) hooks in here once.
 */

export interface NewConnectionRow {
  typeId: string;
  sourceId: string;
  targetId: string;
  symmetric: boolean;
  startDate: string | null;
  endDate: string | null;
  properties: ConnectionProperties;
  notes: string | null;
  contextRecordId: string | null;
  createdById: string;
}

export async function insertConnection(tx: Queryable, row: NewConnectionRow): Promise<ConnectionEntity> {
  const [saved] = await tx.query(
    `INSERT INTO connections AS c (type_id, source_id, target_id, "symmetric", start_date, end_date, properties, notes, context_record_id, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     RETURNING ${CONNECTION_COLUMNS}`,
    [row.typeId, row.sourceId, row.targetId, row.symmetric, row.startDate, row.endDate, JSON.stringify(row.properties), row.notes,
      row.contextRecordId, row.createdById],
  );
  return toConnectionEntity(saved);
}

/** Merge: the connection now links `sourceId` and `targetId` (one of them the survivor). */
export async function moveConnection(tx: Queryable, id: string, sourceId: string, targetId: string): Promise<ConnectionEntity> {
  const [row] = await queryRows(tx,
    `UPDATE connections c SET source_id = $2, target_id = $3, updated_at = now() WHERE c.id = $1 RETURNING ${CONNECTION_COLUMNS}`,
    [id, sourceId, targetId]);
  return toConnectionEntity(row);
}

/**
 * Merge: `removedIds` duplicated `keep` for overlapping dates; they are deleted and `keep` widened to span all of
 * them (its properties and notes stay).
 */
export async function foldConnections(tx: Queryable, keep: string, removedIds: string[], startDate: string | null, endDate: string | null): Promise<void> {
  await tx.query('DELETE FROM connections WHERE id = ANY($1::uuid[])', [removedIds]);
  await tx.query('UPDATE connections SET start_date = $2, end_date = $3, updated_at = now() WHERE id = $1', [keep, startDate, endDate]);
}

/** Merge: the connection became a self-link its type forbids; it ends (as the END policy does) and the finding is accepted. */
export async function endSelfLink(tx: Queryable, id: string): Promise<void> {
  await tx.query(
    `UPDATE connections SET ${END_CONNECTION_SET_SQL}, acknowledged_issues = array_append(array_remove(acknowledged_issues, 'SELF_LINK'), 'SELF_LINK'), updated_at = now() WHERE id = $1`,
    [id]);
}

/** Merge: connections that named a merged record as their context name the survivor instead. */
export async function repointContextRecords(tx: Queryable, mergedIds: string[], survivorId: string): Promise<string[]> {
  const rows: Array<{ id: string }> = await tx.query(
    'UPDATE connections SET context_record_id = $2, updated_at = now() WHERE context_record_id = ANY($1::uuid[]) RETURNING id', [mergedIds, survivorId]);
  return rows.map((r) => r.id);
}

/**
 * Deletes the connections `where` picks (a condition on `c`, its `$n` from `params`) with a `connection.deleted` for
 * each, oldest first, in `tx`: what a type deleted or changed with policy DELETE, an integrity repair and a hard-deleted
 * record do to their connections.
 */
export async function deleteConnections(tx: Queryable, events: EventPublisher, where: string, params: unknown[]): Promise<ConnectionEntity[]> {
  const deleted = (await queryRows(tx, `DELETE FROM connections c WHERE ${where} RETURNING ${CONNECTION_COLUMNS}`, params)).map(toConnectionEntity)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  await events.publish(tx, deleted.map((connection) => connectionEvent('connection.deleted', connection)));
  return deleted;
}
