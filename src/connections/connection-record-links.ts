import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../core/context';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isUuid } from '../core/ids';
import type { EventPublisher } from '../events/event-publisher';
import type { RecordEntity } from '../records/record.entity';
import type { MergedConnection, NewRecordLink, RecordLinks } from '../records/record-links';
import type { RecordService } from '../records/record.service';
import { checkProperties } from './connection-properties';
import { toConnectionTypeEntity, type ConnectionTypeEntity } from './connection-type.entity';
import { contextRecordErrors } from './connection-context';
import { moveConnectionsOnMerge } from './connection-merge';
import { dateErrors, endpointErrors, type DuplicateProbe } from './connection.service';
import { deleteConnections, insertConnection, type NewConnectionRow } from './connection-writes';
import { connectionEvent } from './connection.events';
import { setHistoryActor } from './connection-history';

/** How connections follow records: created with a new record, moved on a merge. Registered on the records service. */
export class ConnectionRecordLinks implements RecordLinks {
  constructor(private readonly records: RecordService, private readonly events: EventPublisher) {}

  async moveOnMerge(ctx: RequestContext, survivor: RecordEntity, merged: RecordEntity[], tx: EntityManager): Promise<MergedConnection[]> {
    await setHistoryActor(tx, ctx.user.id); // the history of every moved, folded or ended connection names the merger
    return moveConnectionsOnMerge(tx, survivor, merged, this.events, ctx.user.id);
  }

  /** A hard-deleted record's connections are deleted first, each with its `connection.deleted`, in the delete's transaction. */
  async deleteForHardDelete(recordId: string, tx: EntityManager): Promise<void> {
    await deleteConnections(tx, this.events, 'c.source_id = $1 OR c.target_id = $1', [recordId]);
  }

  /**
   * Checks every link first and refuses them all at once (fields `connections.<i>.…`); the record is new and invisible
   * to other transactions, so the only possible duplicates are among the links themselves.
   */
  async createForNewRecord(ctx: RequestContext, record: RecordEntity, links: NewRecordLink[], tx: EntityManager): Promise<void> {
    await setHistoryActor(tx, ctx.user.id);
    const types = await this.lockTypes(tx, links.map((l) => l.typeId));
    const others = new Map((await this.records.lockLiveForShare(tx, links.flatMap((l) => [l.otherId, l.contextRecordId ?? ''])))
      .map((r) => [r.id, r]));
    others.set(record.id, record);
    const errors: UserError[] = [];
    const rows: Array<NewConnectionRow & { probe: DuplicateProbe }> = [];
    links.forEach((link, i) => {
      const at = (field: string[] | null | undefined) => ['connections', String(i), ...(field ?? [])];
      const itemErrors: UserError[] = [];
      const type = isUuid(link.typeId) ? types.get(link.typeId.toLowerCase()) ?? null : null;
      const other = isUuid(link.otherId) ? others.get(link.otherId.toLowerCase()) ?? null : null;
      if (!type) itemErrors.push(new UserError(ErrorCode.NOT_FOUND, 'No connection type has this id.', at(['typeId'])));
      else if (!type.active) itemErrors.push(new UserError(ErrorCode.INVALID, `The connection type "${type.name}" is inactive and takes no new connections.`, at(['typeId'])));
      if (!other) itemErrors.push(new UserError(ErrorCode.NOT_FOUND, 'No record has this id.', at(['otherId'])));
      const [source, target] = link.side === 'SOURCE' ? [record, other] : [other, record];
      // endpoint errors name sourceId/targetId; here the new record's end is `side`, the other's `otherId`
      const fieldOf = (field: string | undefined) => (field === (link.side === 'SOURCE' ? 'sourceId' : 'targetId') ? 'side' : 'otherId');
      if (type && source && target) {
        itemErrors.push(...endpointErrors(type, source, target).map((e) => new UserError(e.code, e.message, at([fieldOf(e.field?.[0])]))));
      }
      const checked = checkProperties(type?.properties ?? [], link.properties ?? {});
      if (type) itemErrors.push(...checked.errors.map((e) => new UserError(e.code, e.message, at(e.field))));
      itemErrors.push(...dateErrors(link.startDate ?? null, link.endDate ?? null).map((e) => new UserError(e.code, e.message, at(e.field))));
      if (type) itemErrors.push(...contextRecordErrors(type, link.contextRecordId ?? null, others).map((e) => new UserError(e.code, e.message, at(e.field))));
      if (itemErrors.length === 0) {
        const probe: DuplicateProbe = { type: type!, sourceId: source!.id, targetId: target!.id, startDate: link.startDate ?? null, endDate: link.endDate ?? null };
        const earlier = rows.findIndex((r) => overlaps(r.probe, probe));
        if (earlier >= 0) {
          itemErrors.push(new UserError(ErrorCode.DUPLICATE_CONNECTION,
            `Connection ${earlier} of this record already links these records as "${type!.name}" for overlapping dates.`, at(['otherId'])));
        } else {
          rows.push({
            probe, typeId: type!.id, sourceId: probe.sourceId, targetId: probe.targetId, symmetric: type!.symmetric,
            startDate: probe.startDate, endDate: probe.endDate, properties: checked.properties, notes: link.notes?.trim() || null,
            contextRecordId: link.contextRecordId ? link.contextRecordId.toLowerCase() : null, createdById: ctx.user.id,
          });
        }
      }
      errors.push(...itemErrors);
    });
    if (errors.length) throw new UserErrorException(errors);
    for (const row of rows) {
      const connection = await insertConnection(tx, row);
      await this.events.publish(tx, connectionEvent('connection.created', connection));
    }
  }

  /** Share-locks the types (as a single create does), so a concurrent type change waits for the new connections. */
  private async lockTypes(tx: EntityManager, ids: string[]): Promise<Map<string, ConnectionTypeEntity>> {
    const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))].sort();
    if (valid.length === 0) return new Map();
    const rows: Array<Record<string, any>> = await tx.query('SELECT * FROM connection_types WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE', [valid]);
    return new Map(rows.map((row) => [row.id, toConnectionTypeEntity(row)]));
  }
}

/** Same type, same pair (either order when symmetric), dates overlapping (inclusive, open ends infinite). */
function overlaps(a: DuplicateProbe, b: DuplicateProbe): boolean {
  if (a.type.id !== b.type.id) return false;
  const samePair = (a.sourceId === b.sourceId && a.targetId === b.targetId) || (a.type.symmetric && a.sourceId === b.targetId && a.targetId === b.sourceId);
  const start = (d: string | null) => d ?? '0000-01-01';
  const end = (d: string | null) => d ?? '9999-12-31';
  return samePair && start(a.startDate) <= end(b.endDate) && start(b.startDate) <= end(a.endDate);
}
