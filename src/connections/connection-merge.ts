import type { EntityManager } from 'typeorm';
import type { EventPublisher } from '../events/event-publisher';
import type { RecordEntity } from '../records/record.entity';
import type { MergedConnection } from '../records/record-links';
import { toConnectionTypeEntity, type ConnectionTypeEntity } from './connection-type.entity';
import { CONNECTION_COLUMNS, toConnectionEntity, type ConnectionEntity } from './connection.entity';
import { findOverlapping, lockPair, type DuplicateProbe } from './connection.service';
import { endSelfLink, foldConnections, moveConnection, repointContextRecords } from './connection-writes';
import { connectionEvent } from './connection.events';

/**
 * Moves every connection of the merged records to the survivor, inside the merge's transaction (which holds the
 * records' locks, so no connection to them can be created meanwhile). A move onto a pair the survivor already has
 * for overlapping dates folds into that connection; a move that makes a forbidden self-link is ended.
 */
export async function moveConnectionsOnMerge(
  tx: EntityManager, survivor: RecordEntity, merged: RecordEntity[], events: EventPublisher, userId: string,
): Promise<MergedConnection[]> {
  const mergedIds = new Set(merged.map((r) => r.id));
  // Every connection this merge may change touches the survivor or a merged record: all are locked up front, in id
  // order, so two merges whose records are linked to each other queue instead of deadlocking over a fold.
  const rows: Array<Record<string, any>> = await tx.query(
    `SELECT ${CONNECTION_COLUMNS} FROM connections c WHERE c.source_id = ANY($1::uuid[]) OR c.target_id = ANY($1::uuid[])
      ORDER BY c.id FOR UPDATE`, [[survivor.id, ...mergedIds]]);
  const connections = rows.map(toConnectionEntity)
    .filter((c) => mergedIds.has(c.sourceId) || mergedIds.has(c.targetId))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
  const types = await typesOf(tx, connections);
  const results: MergedConnection[] = [];
  const folded = new Set<string>();
  for (const connection of connections) {
    if (folded.has(connection.id)) continue;
    const type = types.get(connection.typeId)!;
    const probe: DuplicateProbe = {
      type,
      sourceId: mergedIds.has(connection.sourceId) ? survivor.id : connection.sourceId,
      targetId: mergedIds.has(connection.targetId) ? survivor.id : connection.targetId,
      startDate: connection.startDate,
      endDate: connection.endDate,
    };
    await lockPair(tx, probe);
    const overlapping = await allOverlapping(tx, probe, connection.id);
    if (overlapping.length > 0) {
      const [keep, ...others] = overlapping;
      const removed = [connection.id, ...others.map((o) => o.id)];
      await foldConnections(tx, keep.id, removed, probe.startDate, probe.endDate);
      await events.publish(tx, [connection, ...others].map((gone) => connectionEvent('connection.deleted', gone)));
      removed.forEach((id) => { folded.add(id); results.push({ connectionId: id, outcome: 'FOLDED', intoConnectionId: keep.id }); });
      continue;
    }
    const moved = await moveConnection(tx, connection.id, probe.sourceId, probe.targetId);
    if (probe.sourceId === probe.targetId && !type.allowSelf) {
      await endSelfLink(tx, connection.id);
      await events.publish(tx, connectionEvent('connection.ended', moved));
      results.push({ connectionId: connection.id, outcome: 'ENDED', intoConnectionId: null });
    } else {
      results.push({ connectionId: connection.id, outcome: 'MOVED', intoConnectionId: null });
    }
  }
  await repointContextRecords(tx, [...mergedIds], survivor.id);
  // records is built before events, so the merge's own event is published here, in the merge's transaction
  await events.publish(tx, {
    type: 'record.merged', subject: `record:${survivor.id}`, topics: [`record:${survivor.id}`, ...[...mergedIds].map((id) => `record:${id}`)],
    data: { survivorId: survivor.id, mergedIds: [...mergedIds], module: survivor.module, userId, connections: results },
  });
  return results;
}

/**
 * Every connection the probe overlaps, oldest first, widening the probe's dates over each one found until none is
 * left: folding into one connection must not make it overlap another of the same pair.
 */
async function allOverlapping(tx: EntityManager, probe: DuplicateProbe, movingId: string): Promise<ConnectionEntity[]> {
  const found: ConnectionEntity[] = [];
  for (;;) {
    const next = await findOverlapping(tx, probe, movingId, found.map((c) => c.id));
    if (!next) return found.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    found.push(next);
    probe.startDate = earliest(probe.startDate, next.startDate);
    probe.endDate = latest(probe.endDate, next.endDate);
  }
}

/** Null means open (since always / open-ended), so it wins. */
function earliest(a: string | null, b: string | null): string | null {
  return a === null || b === null ? null : a < b ? a : b;
}

function latest(a: string | null, b: string | null): string | null {
  return a === null || b === null ? null : a > b ? a : b;
}

async function typesOf(tx: EntityManager, connections: ConnectionEntity[]): Promise<Map<string, ConnectionTypeEntity>> {
  const ids = [...new Set(connections.map((c) => c.typeId))];
  if (ids.length === 0) return new Map();
  const rows: Array<Record<string, any>> = await tx.query('SELECT * FROM connection_types WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((row) => [row.id, toConnectionTypeEntity(row)]));
}
