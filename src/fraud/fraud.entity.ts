import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const FRAUD_EVENT_KINDS = ['SENT', 'VERIFIED', 'BLOCKED'] as const;
export type FraudEventKind = (typeof FRAUD_EVENT_KINDS)[number];
/** Why a send was refused: its number type, its country, its prefix's block, or a signal that could not be computed. */
export type BlockReason = 'NUMBER_TYPE' | 'GEO_BLOCKED' | 'PREFIX_BLOCKED' | 'FAIL_CLOSED';
export type GeoAction = 'ALLOW' | 'BLOCK' | 'MONITOR';
export type SafeListKind = 'NUMBER' | 'PREFIX';

/**
 * One send, verification or refused send: the log behind the prefix counters (sliding windows are counts over it),
 * the blocked-sends list and the conversion summary. Shared by every instance because it lives in Postgres.
 */
@Entity({ name: 'fraud_events' })
@Index('IDX_fraud_events_prefix_created', ['prefix', 'createdAt'])
@Index('IDX_fraud_events_kind_created', ['kind', 'createdAt'])
export class FraudEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  kind: FraudEventKind;

  @Column({ type: 'varchar', length: 32, nullable: true })
  reason: BlockReason | null;

  /** Sent to a MONITOR country: allowed, but flagged. */
  @Column({ type: 'boolean', default: false })
  monitored: boolean;

  /** The E.164 number without its last four digits (null for email-only sends). */
  @Column({ type: 'varchar', length: 16, nullable: true })
  prefix: string | null;

  @Column({ type: 'varchar', length: 2, nullable: true })
  country: string | null;

  @Column({ type: 'varchar', length: 24, name: 'number_type', nullable: true })
  numberType: string | null;

  /** `+91******1637`: never the whole number. */
  @Column({ type: 'varchar', length: 32, name: 'masked_number', nullable: true })
  maskedNumber: string | null;

  @Column({ type: 'varchar', length: 16, array: true })
  channels: string[];

  @Column({ type: 'varchar', length: 64 })
  source: string;

  @Column({ type: 'integer', name: 'rule_id', nullable: true })
  ruleId: number | null;

  @Column({ type: 'uuid', name: 'otp_request_id', nullable: true })
  otpRequestId: string | null;

  @Column({ type: 'uuid', name: 'api_key_id', nullable: true })
  apiKeyId: string | null;

  @Column({ type: 'uuid', name: 'user_id', nullable: true })
  userId: string | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  detail: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

/** An automatic block of a number prefix whose sends did not convert; escalates on repeat, lifted early by an admin. */
@Entity({ name: 'fraud_prefix_blocks' })
@Index('IDX_fraud_prefix_blocks_prefix_expires', ['prefix', 'expiresAt'])
export class FraudPrefixBlockEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 16 })
  prefix: string;

  @Column({ type: 'varchar', length: 2, nullable: true })
  country: string | null;

  /** 1 for a first block, 2 for a repeat within the escalation window, ... */
  @Column({ type: 'integer' })
  level: number;

  @Column({ type: 'varchar', length: 300 })
  reason: string;

  @Column({ type: 'integer' })
  sends: number;

  @Column({ type: 'integer' })
  verified: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', name: 'lifted_at', nullable: true })
  liftedAt: Date | null;

  @Column({ type: 'uuid', name: 'lifted_by', nullable: true })
  liftedBy: string | null;
}

/** A country's permission set by an admin at run time (wins over the environment); country `*` is the default. */
@Entity({ name: 'fraud_geo_permissions' })
export class FraudGeoPermissionEntity {
  @PrimaryColumn({ type: 'varchar', length: 2 })
  country: string;

  @Column({ type: 'varchar', length: 8 })
  action: GeoAction;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

  @Column({ type: 'uuid', name: 'updated_by', nullable: true })
  updatedBy: string | null;
}

/** A number, or a prefix of numbers, that bypasses screening, geo permissions and prefix blocks. */
@Entity({ name: 'fraud_safe_list' })
export class FraudSafeListEntryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 8 })
  kind: SafeListKind;

  /** E.164 number, or `+` and the leading digits of a prefix. */
  @Index('UQ_fraud_safe_list_value', { unique: true })
  @Column({ type: 'varchar', length: 16 })
  value: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  note: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'uuid', name: 'created_by', nullable: true })
  createdBy: string | null;
}

export const FRAUD_ENTITIES = [FraudEventEntity, FraudPrefixBlockEntity, FraudGeoPermissionEntity, FraudSafeListEntryEntity];
