import type { DomainEvent } from '../events/event-types';
import type { RecordEntity } from '../records/record.entity';
import type { OtpRuleEntity } from './otp-rule.entity';

/** The rules' domain events, ordered per record. No code and no recipient in them. */
export function ruleEvent(type: 'rule.otp_required' | 'rule.save_verified', rule: OtpRuleEntity, record: RecordEntity, userId: string,
  extra: Record<string, unknown> = {}): DomainEvent {
  return {
    type,
    subject: `record:${record.id}`,
    data: { ruleId: rule.id, ruleName: rule.name, recordId: record.id, module: record.module, userId, ...extra },
  };
}
