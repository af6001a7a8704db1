import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import { defineFeature } from '../core/feature';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import type { Metrics } from '../core/metrics';
import type { Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import type { RecordService } from '../records/record.service';
import { CodeHasher } from './codes';
import { DeliveryQueue } from './delivery/delivery-queue';
import { DeliveryWorker } from './delivery/delivery-worker';
import { createProviders } from './delivery/providers';
import { EarlyProviderStatusEntity } from './delivery/early-provider-status.entity';
import { OtpDeliveryEntity } from './otp-delivery.entity';
import { sweepExpiredOtps } from './otp-expiry';
import { OtpLimits } from './otp-limits';
import { OtpRequestEntity } from './otp-request.entity';
import { otpDeliveriesLoader } from './otp.loaders';
import { OtpResolver } from './otp.resolver';
import { OtpSubscriptionResolver } from './otp-subscription.resolver';
import { OtpService } from './otp.service';
import { MessageTemplateEntity } from './templates/message-template.entity';
import { MessageTemplateResolver } from './templates/message-template.resolver';
import { MessageTemplateService } from './templates/message-template.service';

export interface OtpNeeds {
  db: DataSource;
  /** The main pool under `db`: the delivery queue (pg-boss) and the abuse limits share it. */
  pool: Pool;
  /** Wrong codes are counted here, outside any caller's transaction. */
  counters: Queryable;
  config: AppConfig;
  secretKey: string;
  log: Logger;
  metrics: Metrics;
  /** A send's `recordId` must name a live record. */
  records: RecordService;
  /** Every change to an OTP is published as a domain event in its own transaction. */
  events: EventPublisher;
  /** sendOtp (and the REST door's send-otp) take an idempotency key. */
  idempotency: IdempotencyService;
}

/**
 * One-time passcodes (GraphQL and the REST door in `otp/rest`), their message templates, the abuse limits and the
 * delivery queue; with OTP_WORKER on, this process also delivers.
 */
export const otpFeature = defineFeature({
  name: 'otp',
  entities: [OtpRequestEntity, OtpDeliveryEntity, MessageTemplateEntity, EarlyProviderStatusEntity],
  resolvers: [OtpResolver, MessageTemplateResolver, OtpSubscriptionResolver],
  loaders: (db) => ({ otpDeliveries: otpDeliveriesLoader(db) }),
  build({ db, pool, counters, config, secretKey, log, metrics, records, events, idempotency }: OtpNeeds) {
    const deliveryLog = log.child({ component: 'otp-delivery' });
    const hasher = new CodeHasher(secretKey);
    const queue = new DeliveryQueue(pool, config, deliveryLog);
    const otp = new OtpService(db, { config, hasher, limits: new OtpLimits(pool, config), queue, metrics, log, counters, events });
    otp.registerReferenceCheck('recordId', (id) => records.isLive(id));
    const messageTemplates = new MessageTemplateService(db);
    let providers: ReturnType<typeof createProviders> | null = null;
    let interruptedSweep: NodeJS.Timeout | null = null;
    let expirySweep: NodeJS.Timeout | null = null;
    return {
      services: { otp, messageTemplates },
      resolvers: [new OtpResolver(otp, idempotency), new MessageTemplateResolver(messageTemplates), new OtpSubscriptionResolver(otp)],
      async start() {
        await queue.start();
        if (!config.OTP_WORKER) return;
        providers = createProviders(config, log);
        const worker = new DeliveryWorker(db, providers, hasher, metrics, deliveryLog, events, queue);
        await queue.work((jobs) => worker.deliverBatch(jobs));
        // a SENDING delivery older than any live provider call belongs to a process that died during it
        const graceMs = config.OTP_PROVIDER_TIMEOUT_MS * 2 + 1000;
        interruptedSweep = setInterval(() => {
          worker.settleInterrupted(graceMs).catch((error) => log.warn({ err: error }, 'could not settle interrupted OTP deliveries'));
        }, Math.max(1000, config.OTP_PROVIDER_TIMEOUT_MS));
        interruptedSweep.unref();
        // expired OTPs are settled (and `otp.expired` published) within OTP_EXPIRY_SWEEP_MS of their expiry
        expirySweep = setInterval(() => {
          sweepExpiredOtps(db, events).catch((error) => log.warn({ err: error }, 'could not settle expired OTPs'));
        }, config.OTP_EXPIRY_SWEEP_MS);
        expirySweep.unref();
      },
      async stop() {
        if (interruptedSweep) clearInterval(interruptedSweep);
        if (expirySweep) clearInterval(expirySweep);
        await queue.stop();
        providers?.close();
      },
    };
  },
});
