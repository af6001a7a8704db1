import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A provider status callback (Twilio, WhatsApp) that arrived before the worker recorded the provider's message id,
 * kept until that id is recorded (then applied and deleted) or until `expiresAt`. Bounded: OTP_EARLY_CALLBACKS_MAX
 * rows, OTP_EARLY_CALLBACK_TTL_SECONDS each.
 */
@Entity({ name: 'otp_early_provider_statuses' })
@Index('IDX_otp_early_provider_statuses_expires', ['expiresAt'])
export class EarlyProviderStatusEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  provider: string;

  @PrimaryColumn({ type: 'varchar', length: 255, name: 'message_id' })
  messageId: string;

  /** DELIVERED or FAILED: the first final status received wins, as for a known delivery. */
  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The provider's own word (Twilio `undelivered`, WhatsApp `read`), for the `otp.delivery.updated` written when it is applied. */
  @Column({ type: 'varchar', length: 32, name: 'provider_status', nullable: true })
  providerStatus: string | null;

  @Column({ type: 'timestamptz', name: 'received_at', default: () => 'now()' })
  receivedAt: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt: Date;
}
