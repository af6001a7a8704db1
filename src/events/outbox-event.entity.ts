import { Column, CreateDateColumn, Entity, Generated, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The outbox: one row per domain event, written by the publishing feature in the same transaction as the change it
 * describes (so it exists exactly when the change does). Its `id` (a sequence) is the order of events; the webhook
 * dispatcher fans each row out to the matching endpoints once (`fanned_out_at`).
 */
@Entity({ name: 'event_outbox' })
@Index('IDX_event_outbox_pending', ['id'], { where: '"fanned_out_at" IS NULL' })
@Index('IDX_event_outbox_event_id', ['eventId'], { unique: true })
export class OutboxEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'uuid', name: 'event_id' })
  @Generated('uuid')
  eventId: string;

  @Column({ type: 'varchar', length: 64 })
  type: string;

  @Column({ type: 'varchar', length: 200 })
  subject: string;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', name: 'occurred_at' })
  occurredAt: Date;

  @Column({ type: 'timestamptz', name: 'fanned_out_at', nullable: true })
  fannedOutAt: Date | null;
}
