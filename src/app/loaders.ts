import type { DataSource } from 'typeorm';
import type { Loaders } from '../core/context';
import { createAuthLoaders } from '../auth/auth.loaders';
import { recordsLoader } from '../records/record.loaders';
import { createConnectionLoaders } from '../connections/connection.loaders';
import { otpDeliveriesLoader } from '../otp/otp.loaders';
import { otpRulesLoader } from '../otp-rules/otp-rule.loaders';

/** Created per request, so batching and caching never leak between callers; each feature declares its own. */
export function createLoaders(db: DataSource): Loaders {
  return {
    ...createAuthLoaders(db),
    records: recordsLoader(db),
    ...createConnectionLoaders(db),
    otpDeliveries: otpDeliveriesLoader(db),
    otpRules: otpRulesLoader(db),
  };
}
