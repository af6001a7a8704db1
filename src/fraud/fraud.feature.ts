import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import type { Metrics } from '../core/metrics';
import type { Notifications } from '../db/notifications';
import { FraudAdminService } from './fraud-admin.service';
import { FraudRepository } from './fraud.repository';
import { ConversionSummaryRowResolver, FraudResolver, PrefixBlockResolver } from './fraud.resolver';
import { FraudGuard } from './fraud.service';
import { FraudSettingsCache } from './fraud-settings.cache';

export { FRAUD_ENTITIES } from './fraud.entity';
export const FRAUD_RESOLVERS = [FraudResolver, PrefixBlockResolver, ConversionSummaryRowResolver] as const;

export interface FraudFeature {
  /** The send screen to register with the otp feature. */
  guard: FraudGuard;
  admin: FraudAdminService;
  resolvers: Array<[Function, unknown]>;
  /** Loads the geo permissions and safe list (call once the database is ready). */
  start(): Promise<void>;
}

/** The fraud guard, assembled: one place lists what the app registers for it. */
export function createFraudFeature(db: DataSource, deps: { config: AppConfig; metrics: Metrics; log: Logger; notifications: Notifications }): FraudFeature {
  const { config } = deps;
  const repository = new FraudRepository(db);
  const settings = new FraudSettingsCache(repository, {
    defaultAction: config.FRAUD_GEO_DEFAULT, allow: config.FRAUD_GEO_ALLOW, block: config.FRAUD_GEO_BLOCK, monitor: config.FRAUD_GEO_MONITOR,
  }, deps.notifications, deps.log);
  const guard = new FraudGuard(repository, settings, config, deps.metrics, deps.log.child({ component: 'fraud-guard' }));
  const admin = new FraudAdminService(db, repository, settings);
  return {
    guard,
    admin,
    resolvers: [[FraudResolver, new FraudResolver(admin)], [PrefixBlockResolver, new PrefixBlockResolver()], [ConversionSummaryRowResolver, new ConversionSummaryRowResolver()]],
    start: () => settings.reload(),
  };
}
