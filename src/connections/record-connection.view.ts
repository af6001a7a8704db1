import { encodeCursor } from '../core/pagination';
import type { RecordEntity } from '../records/record.entity';
import type { ConnectionTypeEntity } from './connection-type.entity';
import type { ConnectionEntity } from './connection.entity';
import { ConnectionDirection, ConnectionStatus } from './connection.enums';

/** Today's date in UTC as YYYY-MM-DD: the clock statuses are computed with. */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/** ACTIVE until the end date has passed; computed on every read, so it is never stale. */
export function statusOf(connection: Pick<ConnectionEntity, 'endDate'>, day?: string): ConnectionStatus {
  // the clock is read only for a connection that has an end date (most have none, and pages read thousands)
  return connection.endDate !== null && connection.endDate < (day ?? todayUtc()) ? ConnectionStatus.INACTIVE : ConnectionStatus.ACTIVE;
}

/** A connection's cursor in its lists: its creation time to the microsecond (UTC, as `CURSOR_AT_SQL` writes it) and id. */
export function encodeConnectionCursor(createdAt: string, id: string): string {
  return encodeCursor([createdAt, id]);
}

/** A connection seen from one of its records (`viewerId`): which side it is on and which record is the other. */
export class RecordConnectionView {
  /**
   * The connection's type and other record, when the query that read the connection also has them (a record's
   * connections page): its fields then answer without a loader, synchronously.
   */
  type: ConnectionTypeEntity | null = null;
  otherRecord: RecordEntity | null = null;
  /**
   * `otherRecord` holds only the other record's id, module and label (all the operation asked of it): it answers this
   * view's `otherRecord` and must not stand for the record anywhere else (it is not primed into the records loader).
   */
  otherRecordPartial = false;

  /** `cursorAt` (the cursor's time) places the view in its record's list of connections; the cursor is made when asked for. */
  /** `asOf`: the view is of the list as it stood that day (from the history), and status is computed for that day. */
  constructor(readonly connection: ConnectionEntity, readonly viewerId: string, readonly cursorAt: string, readonly asOf: string | null = null) {}

  get cursor(): string { return encodeConnectionCursor(this.cursorAt, this.connection.id); }
  get connectionId(): string { return this.connection.id; }
  get direction(): ConnectionDirection {
    if (this.connection.symmetric) return ConnectionDirection.MUTUAL;
    return this.connection.sourceId === this.viewerId ? ConnectionDirection.OUTGOING : ConnectionDirection.INCOMING;
  }
  get otherRecordId(): string {
    return this.connection.sourceId === this.viewerId ? this.connection.targetId : this.connection.sourceId;
  }
  get status(): ConnectionStatus { return statusOf(this.connection, this.asOf ?? undefined); }
  get startDate(): string | null { return this.connection.startDate; }
  get endDate(): string | null { return this.connection.endDate; }
  get properties(): Record<string, unknown> { return this.connection.properties; }
  get notes(): string | null { return this.connection.notes; }
}
