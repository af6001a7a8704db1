import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import type { Clock } from '../core/clock';
import { defineFeature } from '../core/feature';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import type { Notifications } from '../db/notifications';
import type { Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import type { OtpService } from '../otp/otp.service';
import type { RecordService } from '../records/record.service';
import { OtpRuleCache } from './otp-rule.cache';
import { OtpRuleCheckedStateEntity, OtpRuleEntity, OtpRuleValidationFailureEntity } from './otp-rule.entity';
import { OtpRuleGuard } from './otp-rule.guard';
import { otpRulesLoader } from './otp-rule.loaders';
import { OtpRequestRuleResolver, OtpRuleResolver } from './otp-rule.resolver';
import { OtpRuleService } from './otp-rule.service';
import { OtpServiceRuleGateway } from './rule-otp.adapter';
import { RuleValidationFailures } from './validation-failures';

export interface OtpRulesNeeds {
  db: DataSource;
  notifications: Notifications;
  /** Failed rule-OTP attempts are counted here, outside the guarded save's transaction. */
  counters: Queryable;
  clock: Clock;
  log: Logger;
  config: Pick<AppConfig, 'DEFAULT_COUNTRY_CODE' | 'SMTP_FROM_NAME' | 'OTP_RULES_LIMIT'>;
  /** Rule OTPs are ordinary OTP requests bound to the rule and the record. */
  otp: OtpService;
  /** The rules guard record saves. */
  records: RecordService;
  /** Rule checks are published as domain events. */
  events: EventPublisher;
  /** sendRuleOtp takes an idempotency key. */
  idempotency: IdempotencyService;
}

/**
 * OTP rules: they guard record saves (a guard registered with records) and send and verify their OTPs through the
 * otp service; active rules are cached in memory and reloaded when any instance changes one.
 */
export const otpRulesFeature = defineFeature({
  name: 'otp-rules',
  entities: [OtpRuleEntity, OtpRuleValidationFailureEntity, OtpRuleCheckedStateEntity],
  resolvers: [OtpRuleResolver, OtpRequestRuleResolver],
  loaders: (db) => ({ otpRules: otpRulesLoader(db) }),
  build({ db, notifications, counters, clock, log, config, otp, records, events, idempotency }: OtpRulesNeeds) {
    const ruleCache = new OtpRuleCache(db, notifications, log);
    const ruleOtps = new OtpServiceRuleGateway(otp, config.DEFAULT_COUNTRY_CODE, config.SMTP_FROM_NAME);
    const otpRules = new OtpRuleService(db, ruleCache, ruleOtps, records, config.OTP_RULES_LIMIT);
    // sendOtp's ruleId is a plain reference (such OTPs never satisfy a guard), but it must name a rule that exists
    otp.registerReferenceCheck('ruleId', async (id) => (await otpRules.get(id)) !== null);
    records.registerGuard(new OtpRuleGuard(ruleCache, ruleOtps, new RuleValidationFailures(counters, otp), clock, events, db));
    return {
      services: { otpRules },
      resolvers: [new OtpRuleResolver(otpRules, idempotency, otp), new OtpRequestRuleResolver()],
      start: () => ruleCache.reload(),
    };
  },
});
