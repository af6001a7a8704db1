import type { DomainEvent } from '../events/event-types';
import type { ConnectionEntity } from './connection.entity';

/** What `recordConnectionsChanged(recordId)` listens on. */
export function recordConnectionsTopic(recordId: string): string {
  return `record-connections:${recordId}`;
}

/** `connection.created` / `.ended` / `.deleted`, ordered per connection, heard by both records' subscriptions. */
export function connectionEvent(type: 'connection.created' | 'connection.ended' | 'connection.deleted', connection: ConnectionEntity): DomainEvent {
  return {
    type,
    subject: `connection:${connection.id}`,
    topics: [recordConnectionsTopic(connection.sourceId), recordConnectionsTopic(connection.targetId)],
    data: {
      connectionId: connection.id, typeId: connection.typeId, sourceId: connection.sourceId, targetId: connection.targetId,
      startDate: connection.startDate, endDate: connection.endDate, createdBy: connection.createdById,
    },
  };
}
