import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, OneToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { RecordEntity } from '../records/record.entity';
import type { OtpChannel, OtpCodeType } from '../otp/otp-request.entity';

export type ConditionOperator =
  | 'EQUALS' | 'NOT_EQUALS' | 'CONTAINS' | 'STARTS_WITH' | 'GREATER_THAN' | 'LESS_THAN' | 'IS_EMPTY' | 'IS_NOT_EMPTY'
  | 'HAS_CHANGED' | 'HAS_CHANGED_TO' | 'HAS_CHANGED_FROM';

export interface RuleCondition {
  field: string;
  operator: ConditionOperator;
  value?: string | number | boolean | null;
}

/** ALL: every condition holds; ANY: at least one does. A rule matches when every group matches. */
export interface RuleConditionGroup {
  match: 'ALL' | 'ANY';
  conditions: RuleCondition[];
}

/** A protected state: saves of `module` records matching `conditions` need a valid OTP for this rule. */
@Entity({ name: 'otp_rules' })
@Index('IDX_otp_rules_module_active', ['module', 'active'])
export class OtpRuleEntity {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Index('UQ_otp_rules_name', { unique: true })
  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The name without non-alphanumerics, lower-cased: unique, and the key form `OTPRULES_OTP_<key>`. */
  @Index('UQ_otp_rules_sanitized_key', { unique: true })
  @Column({ type: 'varchar', length: 100, name: 'sanitized_key' })
  sanitizedKey: string;

  @Column({ type: 'varchar', length: 32 })
  module: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ type: 'varchar', length: 64, array: true, name: 'applicable_profiles', default: () => "'{}'" })
  applicableProfiles: string[];

  @Column({ type: 'boolean', name: 'allow_closed_records', default: false })
  allowClosedRecords: boolean;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  conditions: RuleConditionGroup[];

  @Column({ type: 'varchar', length: 16, name: 'code_type', default: 'NUMERIC' })
  codeType: OtpCodeType;

  @Column({ type: 'integer', name: 'code_length', default: 6 })
  codeLength: number;

  @Column({ type: 'integer', name: 'valid_for_seconds', default: 600 })
  validForSeconds: number;

  @Column({ type: 'varchar', length: 24, name: 'resend_mode', default: 'NEW_CODE' })
  resendMode: string;

  @Column({ type: 'integer', name: 'max_resend_attempts', default: 5 })
  maxResendAttempts: number;

  @Column({ type: 'integer', name: 'reset_resend_after_seconds', default: 3600 })
  resetResendAfterSeconds: number;

  @Column({ type: 'integer', name: 'max_validation_attempts', default: 5 })
  maxValidationAttempts: number;

  @Column({ type: 'integer', name: 'reset_validation_after_seconds', default: 900 })
  resetValidationAfterSeconds: number;

  @Column({ type: 'varchar', length: 16, array: true, default: () => "'{SMS}'" })
  channels: OtpChannel[];

  /** The record field holding the mobile number or email; null = the acting user's email. */
  @Column({ type: 'varchar', length: 64, name: 'recipient_field', nullable: true })
  recipientField: string | null;

  /** The EMAIL template of the rule's OTP (default `otp_rule_email`). */
  @Column({ type: 'varchar', length: 64, name: 'email_template_id', nullable: true })
  emailTemplateId: string | null;

  /** The SMS template of the rule's OTP (default `otp_rule_sms`). */
  @Column({ type: 'varchar', length: 64, name: 'sms_template_id', nullable: true })
  smsTemplateId: string | null;

  /** The WhatsApp template of the rule's OTP (default `otp_whatsapp`: WhatsApp sends a Meta-approved template). */
  @Column({ type: 'varchar', length: 64, name: 'whatsapp_template_id', nullable: true })
  whatsappTemplateId: string | null;

  /** A refused save sends the OTP itself (the workflow "Send OTP" action). */
  @Column({ type: 'boolean', name: 'auto_send_on_match', default: false })
  autoSendOnMatch: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

/**
 * Wrong OTPs per rule and record since the last right one or the end of the last lock; reaching the rule's
 * `maxValidationAttempts` sets `lockedUntil` (OTP_LOCKED for `resetValidationAfterSeconds`). See validation-failures.ts.
 */
@Entity({ name: 'otp_rule_validation_failures' })
export class OtpRuleValidationFailureEntity {
  @Column({ type: 'integer', name: 'rule_id', primary: true })
  ruleId: number;

  @ManyToOne(() => OtpRuleEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'rule_id' })
  rule?: OtpRuleEntity;

  @Column({ type: 'uuid', name: 'record_id', primary: true })
  recordId: string;

  @ManyToOne(() => RecordEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'record_id' })
  record?: RecordEntity;

  @Column({ type: 'integer', default: 0 })
  failures: number;

  /** The first wrong OTP of the current count. */
  @Column({ type: 'timestamptz', name: 'window_started_at' })
  windowStartedAt: Date;

  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true })
  lockedUntil: Date | null;
}

/**
 * A closed record's fields as of the last state the rules checked (taken at its first save while closed), so that
 * reopening it is checked against that state: rules that skip closed records cannot be defeated by a detour through
 * the closed state. Removed when the record reopens. See docs/otp-rules.md, "Closed records".
 */
@Entity({ name: 'otp_rule_checked_states' })
export class OtpRuleCheckedStateEntity {
  @PrimaryColumn({ type: 'uuid', name: 'record_id' })
  recordId: string;

  @OneToOne(() => RecordEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'record_id' })
  record?: RecordEntity;

  @Column({ type: 'jsonb' })
  fields: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
