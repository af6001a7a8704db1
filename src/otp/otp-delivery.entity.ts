import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { OtpRequestEntity, type OtpChannel } from './otp-request.entity';

/**
 * QUEUED → SENDING → SENT | FAILED (then DELIVERED/FAILED from provider callbacks). A workflow's later step starts
 * SCHEDULED and becomes SENDING when it is due and the OTP is still pending, or SKIPPED (never sent) when it is not.
 */
export type DeliveryStatus = 'SCHEDULED' | 'QUEUED' | 'SENDING' | 'SENT' | 'DELIVERED' | 'FAILED' | 'SKIPPED';

/**
 * Why a delivery attempt failed, as clients see it. The full reason (hosts, ports, provider answers) stays in the
 * server log and the delivery's `error` column; clients get the category and a fixed message for it
 * (delivery/delivery-errors.ts).
 */
export const DELIVERY_ERROR_CATEGORIES = [
  'PROVIDER_UNREACHABLE', 'PROVIDER_REJECTED', 'TIMEOUT', 'UNDELIVERED', 'INTERRUPTED', 'REQUEST_CLOSED', 'TEMPLATE_ERROR', 'INTERNAL',
] as const;
export type DeliveryErrorCategory = typeof DELIVERY_ERROR_CATEGORIES[number];

/** One message of one OTP request on one channel, delivered by the queue worker. */
@Entity({ name: 'otp_deliveries' })
@Index('IDX_otp_deliveries_request', ['otpRequestId', 'createdAt'])
@Index('IDX_otp_deliveries_provider_message', ['provider', 'providerMessageId'])
@Index('IDX_otp_deliveries_sending', ['updatedAt'], { where: `"status" = 'SENDING'` })
export class OtpDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', name: 'otp_request_id' })
  otpRequestId: string;

  @ManyToOne(() => OtpRequestEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'otp_request_id' })
  otpRequest?: OtpRequestEntity;

  @Column({ type: 'varchar', length: 16 })
  channel: OtpChannel;

  /** E.164 mobile or email address. */
  @Column({ type: 'varchar', length: 254 })
  recipient: string;

  @Column({ type: 'varchar', length: 16, default: 'QUEUED' })
  status: DeliveryStatus;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ type: 'varchar', length: 255, name: 'provider_message_id', nullable: true })
  providerMessageId: string | null;

  /** The full reason of the last failure (addresses, provider answers): for operators, never sent to clients. */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** What clients see of the last failure. */
  @Column({ type: 'varchar', length: 32, name: 'error_category', nullable: true })
  errorCategory: DeliveryErrorCategory | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** The code sealed with AES-GCM for the worker; erased once the delivery is SENT or FAILED. */
  @Column({ type: 'text', name: 'code_sealed', nullable: true })
  codeSealed: string | null;

  /** A workflow step: its place in the workflow (0: sent at once); null for a plain send. */
  @Column({ type: 'smallint', name: 'workflow_step', nullable: true })
  workflowStep: number | null;

  /** A workflow's later step: when it is due (it is sent then only if the OTP is still pending). */
  @Column({ type: 'timestamptz', name: 'scheduled_at', nullable: true })
  scheduledAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

  @Column({ type: 'timestamptz', name: 'sent_at', nullable: true })
  sentAt: Date | null;

  @Column({ type: 'timestamptz', name: 'delivered_at', nullable: true })
  deliveredAt: Date | null;

  @Column({ type: 'timestamptz', name: 'failed_at', nullable: true })
  failedAt: Date | null;
}

export function toOtpDeliveryEntity(row: Record<string, any>): OtpDeliveryEntity {
  return Object.assign(new OtpDeliveryEntity(), {
    id: row.id, otpRequestId: row.otp_request_id, channel: row.channel, recipient: row.recipient, status: row.status,
    provider: row.provider, providerMessageId: row.provider_message_id, error: row.error, errorCategory: row.error_category ?? null, attempts: row.attempts,
    codeSealed: row.code_sealed, workflowStep: row.workflow_step ?? null, scheduledAt: row.scheduled_at ?? null, createdAt: row.created_at, updatedAt: row.updated_at, sentAt: row.sent_at,
    deliveredAt: row.delivered_at, failedAt: row.failed_at,
  });
}
