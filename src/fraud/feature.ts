import { preparedQueriesOf } from '../db/pipelined-sql';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import { defineFeature } from '../core/feature';
import type { Metrics } from '../core/metrics';
import type { Notifications } from '../db/notifications';
import type { OtpService } from '../otp/otp.service';
import { FraudAdminService } from './fraud-admin.service';
import { FRAUD_ENTITIES } from './fraud.entity';
import { FraudRepository } from './fraud.repository';
import { BlockedSendResolver, ConversionSummaryRowResolver, FraudResolver, PrefixBlockResolver } from './fraud.resolver';
import { FraudGuard } from './fraud.service';
import { FraudSettingsCache } from './fraud-settings.cache';

/**
 * How often fraud events past FRAUD_EVENTS_RETENTION_DAYS are deleted (every instance sweeps; the deletes do not
 * collide), and when first: within a minute of start (an instance restarted more often than the interval still sweeps),
 * at a random moment so instances started together do not sweep together.
 */
const RETENTION_SWEEP_MS = 300_000;
const FIRST_SWEEP_MS = () => 30_000 + Math.floor(Math.random() * 30_000);

export interface FraudNeeds {
  db: DataSource;
  notifications: Notifications;
  config: AppConfig;
  metrics: Metrics;
  log: Logger;
  /** Every OTP send passes the guard: it registers itself as the otp service's send screen. */
  otp: OtpService;
}

/**
 * The fraud guard (docs/fraud-guard.md): screens every OTP send before anything is taken or written, counts sends and
 * verifications per prefix and country, blocks prefixes that do not convert; geo permissions and the safe list are
 * cached in memory and reloaded when any instance changes them. Admin operations over GraphQL.
 */
export const fraudFeature = defineFeature({
  name: 'fraud',
  entities: FRAUD_ENTITIES,
  resolvers: [FraudResolver, PrefixBlockResolver, ConversionSummaryRowResolver, BlockedSendResolver],
  loaders: () => ({}),
  build({ db, notifications, config, metrics, log, otp }: FraudNeeds) {
    const repository = new FraudRepository(db, db, preparedQueriesOf(db));
    const settings = new FraudSettingsCache(repository, {
      defaultAction: config.FRAUD_GEO_DEFAULT, allow: config.FRAUD_GEO_ALLOW, block: config.FRAUD_GEO_BLOCK, monitor: config.FRAUD_GEO_MONITOR,
    }, notifications, log);
    const guard = new FraudGuard(repository, settings, config, metrics, log.child({ component: 'fraud-guard' }));
    otp.registerSendScreen(guard);
    const fraudAdmin = new FraudAdminService(db, repository, settings, config.FRAUD_EVENTS_RETENTION_DAYS);
    let retention: NodeJS.Timeout | null = null;
    let firstSweep: NodeJS.Timeout | null = null;
    const prune = () => fraudAdmin.pruneOldEvents()
      .then((deleted) => { if (deleted) log.info({ deleted, days: config.FRAUD_EVENTS_RETENTION_DAYS }, 'fraud events past their retention deleted'); })
      .catch((error) => log.warn({ err: error }, 'could not delete fraud events past their retention'));
    return {
      services: { fraudAdmin },
      resolvers: [new FraudResolver(fraudAdmin), new PrefixBlockResolver(), new ConversionSummaryRowResolver(), new BlockedSendResolver()],
      async start() {
        await settings.reload();
        if (config.FRAUD_EVENTS_RETENTION_DAYS > 0) {
          firstSweep = setTimeout(prune, FIRST_SWEEP_MS());
          firstSweep.unref();
          retention = setInterval(prune, RETENTION_SWEEP_MS);
          retention.unref();
        }
      },
      async stop() {
        if (firstSweep) clearTimeout(firstSweep);
        if (retention) clearInterval(retention);
      },
    };
  },
});
