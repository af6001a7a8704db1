import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { OtpChannel } from '../otp-request.entity';

/** A message with `{{variables}}` (Handlebars); `{{otp}}` and `{{expiresInMinutes}}` are always provided. */
@Entity({ name: 'message_templates' })
export class MessageTemplateEntity {
  /** A slug such as `overseas_otp`. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  channel: OtpChannel;

  @Column({ type: 'varchar', length: 500, nullable: true })
  subject: string | null;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'text', name: 'html_body', nullable: true })
  htmlBody: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

export function toMessageTemplateEntity(row: Record<string, any>): MessageTemplateEntity {
  return Object.assign(new MessageTemplateEntity(), {
    id: row.id, channel: row.channel, subject: row.subject, body: row.body, htmlBody: row.html_body,
    createdAt: row.created_at, updatedAt: row.updated_at,
  });
}

/** Seeded by the Otp migration; used when a send names no template. */
export const DEFAULT_TEMPLATE_IDS = { EMAIL: 'otp_email', SMS: 'otp_sms', WHATSAPP: 'otp_whatsapp' } as const;
