import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ApiKeyEntity } from '../auth/api-key.entity';
import { UserEntity } from '../auth/user.entity';
import { RecordEntity } from '../records/record.entity';

export type OtpChannel = 'SMS' | 'WHATSAPP' | 'EMAIL';
export type OtpCodeType = 'NUMERIC' | 'ALPHABETIC' | 'ALPHANUMERIC';
export type OtpStatus = 'PENDING' | 'VERIFIED' | 'EXPIRED' | 'CANCELED' | 'MAX_ATTEMPTS_REACHED';
export type ResendMode = 'NEW_CODE' | 'SAME_CODE_IF_VALID';
/** Why a request became CANCELED: a newer send for the same purpose replaced it, or someone canceled it. */
export type OtpCancelReason = 'SUPERSEDED' | 'CANCELED_BY_USER';
/** Who issued an OTP: the public send path (`API`) or an OTP rule's send path (`RULE`, the only kind a guard accepts). */
export type OtpIssuer = 'API' | 'RULE';

/** The partial unique indexes' conditions (as the migration writes them). */
const LIVE_API_MOBILE = `status = 'PENDING' AND issued_by = 'API' AND mobile IS NOT NULL`;
const LIVE_API_EMAIL = `status = 'PENDING' AND issued_by = 'API' AND email IS NOT NULL`;
const LIVE_RULE = `status = 'PENDING' AND issued_by = 'RULE'`;

/** One OTP sent to one person: the code lives here only as an HMAC. */
@Entity({ name: 'otp_requests' })
@Index('IDX_otp_requests_mobile_source', ['mobile', 'source', 'createdAt'])
@Index('IDX_otp_requests_email_source', ['email', 'source', 'createdAt'])
@Index('IDX_otp_requests_created', ['createdAt', 'id'])
// At most one live OTP per purpose, so a new send supersedes the old: per recipient, source and sender for API sends, per rule and record for rule sends.
@Index('UQ_otp_requests_live_mobile', ['mobile', 'source', 'userId'], { unique: true, where: LIVE_API_MOBILE })
@Index('UQ_otp_requests_live_email', ['email', 'source', 'userId'], { unique: true, where: LIVE_API_EMAIL })
@Index('UQ_otp_requests_live_rule', ['ruleId', 'recordId'], { unique: true, where: LIVE_RULE })
@Index('IDX_otp_requests_expiry_unannounced', ['id'], { where: 'expiry_unannounced' })
export class OtpRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 16, array: true })
  channels: OtpChannel[];

  /** E.164, e.g. +917977251637. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  mobile: string | null;

  /** Lower-cased. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 200, name: 'email_from_name', nullable: true })
  emailFromName: string | null;

  @Column({ type: 'varchar', length: 500, name: 'email_subject', nullable: true })
  emailSubject: string | null;

  @Column({ type: 'varchar', length: 64, name: 'email_template_id', nullable: true })
  emailTemplateId: string | null;

  @Column({ type: 'jsonb', name: 'email_template_attributes', default: () => "'{}'" })
  emailTemplateAttributes: Record<string, string>;

  @Column({ type: 'varchar', length: 64 })
  source: string;

  @Column({ type: 'varchar', length: 32 })
  type: string;

  @Column({ type: 'integer', name: 'code_length' })
  codeLength: number;

  @Column({ type: 'varchar', length: 16, name: 'code_type' })
  codeType: OtpCodeType;

  /** HMAC-SHA256 (hex) of the request id and the code, keyed by SECRET_KEY. */
  @Column({ type: 'char', length: 64, name: 'code_hash' })
  codeHash: string;

  /** The code sealed with AES-GCM, kept only while a SAME_CODE_IF_VALID request is pending (to resend it). */
  @Column({ type: 'text', name: 'code_sealed', nullable: true })
  codeSealed: string | null;

  @Column({ type: 'boolean', name: 'code_caller_supplied', default: false })
  codeCallerSupplied: boolean;

  /** Set for OTP_TEST_RECIPIENTS sends: fixed code, nothing delivered. */
  @Column({ type: 'boolean', name: 'test_recipient', default: false })
  testRecipient: boolean;

  @Column({ type: 'varchar', length: 24, default: 'PENDING' })
  status: OtpStatus;

  /** Set with CANCELED: SUPERSEDED by a newer send for the same purpose, or CANCELED_BY_USER (cancelOtp). */
  @Column({ type: 'varchar', length: 24, name: 'cancel_reason', nullable: true })
  cancelReason: OtpCancelReason | null;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt: Date;

  /**
   * Set when a verify or a new send settled the request EXPIRED before the expiry sweep did: the sweep still owes its
   * `otp.expired`, publishes it and clears this (docs/events.md).
   */
  @Column({ type: 'boolean', name: 'expiry_unannounced', default: false })
  expiryUnannounced: boolean;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'integer', name: 'max_attempts' })
  maxAttempts: number;

  @Column({ type: 'integer', name: 'send_count', default: 1 })
  sendCount: number;

  @Column({ type: 'integer', name: 'max_resends' })
  maxResends: number;

  @Column({ type: 'integer', name: 'resend_cooldown_seconds' })
  resendCooldownSeconds: number;

  @Column({ type: 'varchar', length: 24, name: 'resend_mode' })
  resendMode: ResendMode;

  @Column({ type: 'integer', name: 'validity_seconds' })
  validitySeconds: number;

  @Column({ type: 'timestamptz', name: 'last_sent_at', default: () => 'now()' })
  lastSentAt: Date;

  /** An OTP rule this OTP is bound to (no foreign key until OTP rules exist). */
  @Column({ type: 'integer', name: 'rule_id', nullable: true })
  ruleId: number | null;

  @Column({ type: 'uuid', name: 'record_id', nullable: true })
  recordId: string | null;

  @ManyToOne(() => RecordEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'record_id' })
  record?: RecordEntity;

  @Column({ type: 'varchar', length: 8, name: 'issued_by', default: 'API' })
  issuedBy: OtpIssuer;

  /** For rule OTPs sent for a known change: the target values of the rule's condition fields. */
  @Column({ type: 'jsonb', name: 'intended_fields', nullable: true })
  intendedFields: Record<string, unknown> | null;

  @Column({ type: 'varchar', length: 64, name: 'sms_template_id', nullable: true })
  smsTemplateId: string | null;

  @Column({ type: 'varchar', length: 64, name: 'whatsapp_template_id', nullable: true })
  whatsappTemplateId: string | null;

  /** Server-supplied variables for every channel's template (record, rule, change). */
  @Column({ type: 'jsonb', name: 'message_variables', default: () => "'{}'" })
  messageVariables: Record<string, unknown>;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column({ type: 'uuid', name: 'api_key_id', nullable: true })
  apiKeyId: string | null;

  @ManyToOne(() => ApiKeyEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'api_key_id' })
  apiKey?: ApiKeyEntity;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

  @Column({ type: 'timestamptz', name: 'verified_at', nullable: true })
  verifiedAt: Date | null;
}

/** Maps an `otp_requests` row to the entity; a pending request past its expiry reads as EXPIRED. */
export function toOtpRequestEntity(row: Record<string, any>): OtpRequestEntity {
  const expiresAt: Date = row.expires_at;
  const status: OtpStatus = row.status === 'PENDING' && expiresAt.getTime() <= Date.now() ? 'EXPIRED' : row.status;
  return Object.assign(new OtpRequestEntity(), {
    id: row.id, channels: row.channels, mobile: row.mobile, email: row.email, emailFromName: row.email_from_name,
    emailSubject: row.email_subject, emailTemplateId: row.email_template_id, emailTemplateAttributes: row.email_template_attributes,
    source: row.source, type: row.type, codeLength: row.code_length, codeType: row.code_type, codeHash: row.code_hash,
    codeSealed: row.code_sealed, codeCallerSupplied: row.code_caller_supplied, testRecipient: row.test_recipient, status,
    cancelReason: row.cancel_reason ?? null,
    expiresAt, expiryUnannounced: row.expiry_unannounced ?? false, attempts: row.attempts, maxAttempts: row.max_attempts, sendCount: row.send_count, maxResends: row.max_resends,
    resendCooldownSeconds: row.resend_cooldown_seconds, resendMode: row.resend_mode, validitySeconds: row.validity_seconds,
    lastSentAt: row.last_sent_at, ruleId: row.rule_id, recordId: row.record_id, issuedBy: row.issued_by,
    intendedFields: row.intended_fields, smsTemplateId: row.sms_template_id, whatsappTemplateId: row.whatsapp_template_id,
    messageVariables: row.message_variables, userId: row.user_id, apiKeyId: row.api_key_id,
    createdAt: row.created_at, updatedAt: row.updated_at, verifiedAt: row.verified_at,
  });
}
