import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../core/context';
import type { RecordEntity } from './record.entity';

/** Which side of a new connection the record being created takes. */
export type RecordLinkSide = 'SOURCE' | 'TARGET';

/** A link asked for with `createRecord(…, connections: […])`, saved with the record or not at all. */
export interface NewRecordLink {
  typeId: string;
  otherId: string;
  side: RecordLinkSide;
  startDate?: string | null;
  endDate?: string | null;
  properties?: Record<string, unknown> | null;
  notes?: string | null;
  contextRecordId?: string | null;
}

/** What a merge did with one connection of a merged record. */
export type MergedConnectionOutcome = 'MOVED' | 'FOLDED' | 'ENDED';

export interface MergedConnection {
  connectionId: string;
  outcome: MergedConnectionOutcome;
  /** The survivor's connection a FOLDED one was folded into (the folded one is gone). */
  intoConnectionId: string | null;
}

/**
 * What hangs off records and must follow them (connections). The records feature owns this interface; the
 * connections feature registers its implementation at start, so records never imports it. Both run inside the
 * records feature's transaction, so a refusal rolls the whole save back.
 */
export interface RecordLinks {
  /** Saves the links of a record created in `tx`; refuses all of them at once (UserErrorException, fields `connections.<i>.…`). */
  createForNewRecord(ctx: RequestContext, record: RecordEntity, links: NewRecordLink[], tx: EntityManager): Promise<void>;
  /** Moves every link of `merged` to `survivor` (all locked by the caller, in id order). */
  moveOnMerge(ctx: RequestContext, survivor: RecordEntity, merged: RecordEntity[], tx: EntityManager): Promise<MergedConnection[]>;
  /** Removes every link of a record about to be hard-deleted in `tx` (locked by the caller), with their events. */
  deleteForHardDelete(recordId: string, tx: EntityManager): Promise<void>;
}
