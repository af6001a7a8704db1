import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** What a history row records about a connection. */
export enum ConnectionHistoryAction {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  /** Only the end date changed, to an earlier (or a first) end date. */
  ENDED = 'ENDED',
  DELETED = 'DELETED',
}

/**
 * One create, change or deletion of a connection, written by the `TRG_connections_history` row trigger (migration
 * ConnectionHistory) in the writer's transaction. `type_id`, `source_id` and `target_id` are the connection's after
 * the change (before it for a deletion). No foreign keys: the history outlives the connection and its records.
 */
@Entity({ name: 'connection_history' })
@Index('IDX_connection_history_connection', ['connectionId', 'id'])
@Index('IDX_connection_history_source', ['sourceId', 'at'])
@Index('IDX_connection_history_target', ['targetId', 'at'])
export class ConnectionHistoryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_connection_history' })
  id: string;

  @Column({ type: 'uuid', name: 'connection_id' })
  connectionId: string;

  @Column({ type: 'varchar', length: 16 })
  action: ConnectionHistoryAction;

  /** The user who acted; null when no user was named (a hard delete cascading from a record, a script). */
  @Column({ type: 'uuid', name: 'actor_id', nullable: true })
  actorId: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ type: 'uuid', name: 'type_id' })
  typeId: string;

  @Column({ type: 'uuid', name: 'source_id' })
  sourceId: string;

  @Column({ type: 'uuid', name: 'target_id' })
  targetId: string;

  @Column({ type: 'jsonb', name: 'old_values', nullable: true })
  oldValues: Record<string, unknown> | null;

  @Column({ type: 'jsonb', name: 'new_values', nullable: true })
  newValues: Record<string, unknown> | null;

  @Column({ type: 'text', array: true, name: 'changed_fields', default: () => "'{}'" })
  changedFields: string[];
}
