import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Where events are POSTed: a URL, the event types it takes (none listed = all), its sealed signing secret. */
@Entity({ name: 'webhook_endpoints' })
export class WebhookEndpointEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  description: string | null;

  @Column({ type: 'text', array: true, name: 'event_types', default: () => "'{}'" })
  eventTypes: string[];

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** The `whsec_` secret, sealed (webhook-secrets.ts); never returned by the API after it was created. */
  @Column({ type: 'text', name: 'secret_sealed' })
  secretSealed: string;

  /** Since when every attempt failed (cleared by a success); 24 h of this disables the endpoint. */
  @Column({ type: 'timestamptz', name: 'failing_since', nullable: true })
  failingSince: Date | null;

  @Column({ type: 'text', name: 'disabled_reason', nullable: true })
  disabledReason: string | null;

  @Column({ type: 'timestamptz', name: 'disabled_at', nullable: true })
  disabledAt: Date | null;

  @Column({ type: 'uuid', name: 'created_by', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

export type WebhookDeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** One event for one endpoint, delivered at least once; `seq` orders the deliveries of a subject. */
@Entity({ name: 'webhook_deliveries' })
@Index('IDX_webhook_deliveries_due', ['nextAttemptAt'], { where: `"status" = 'PENDING'` })
@Index('IDX_webhook_deliveries_subject', ['endpointId', 'subject', 'seq'], { where: `"status" = 'PENDING'` })
@Index('IDX_webhook_deliveries_endpoint', ['endpointId', 'createdAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'bigint', generated: 'increment' })
  seq: string;

  @Column({ type: 'uuid', name: 'endpoint_id' })
  endpointId: string;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: WebhookEndpointEntity;

  /** The event's id: the `webhook-id` header (as `msg_<id>`), the same on every attempt and replay. */
  @Column({ type: 'uuid', name: 'event_id' })
  eventId: string;

  @Column({ type: 'varchar', length: 64, name: 'event_type' })
  eventType: string;

  @Column({ type: 'varchar', length: 200 })
  subject: string;

  /** The body sent, `{type, timestamp, data}`; kept here so the outbox can be pruned. */
  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'varchar', length: 16, default: 'PENDING' })
  status: WebhookDeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', name: 'next_attempt_at', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ type: 'int', name: 'last_response_code', nullable: true })
  lastResponseCode: number | null;

  @Column({ type: 'int', name: 'last_duration_ms', nullable: true })
  lastDurationMs: number | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError: string | null;

  @Column({ type: 'uuid', name: 'replay_of', nullable: true })
  replayOf: string | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt: Date | null;
}

/** The delivery log: one row per HTTP attempt. */
@Entity({ name: 'webhook_delivery_attempts' })
@Index('IDX_webhook_delivery_attempts_delivery', ['deliveryId', 'attempt'])
export class WebhookDeliveryAttemptEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'uuid', name: 'delivery_id' })
  deliveryId: string;

  @ManyToOne(() => WebhookDeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: WebhookDeliveryEntity;

  @Column({ type: 'int' })
  attempt: number;

  @Column({ type: 'boolean' })
  succeeded: boolean;

  @Column({ type: 'int', name: 'response_code', nullable: true })
  responseCode: number | null;

  @Column({ type: 'int', name: 'duration_ms' })
  durationMs: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'timestamptz', name: 'attempted_at' })
  attemptedAt: Date;
}
