import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from '../core/clock';
import type { AppConfig } from '../core/config';
import { defineFeature } from '../core/feature';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { IdempotencyService } from './idempotency.service';

export interface IdempotencyNeeds {
  db: DataSource;
  clock: Clock;
  log: Logger;
  config: Pick<AppConfig, 'IDEMPOTENCY_LOCK_TIMEOUT_SECONDS'>;
}

/** How often keys past their 24 h are deleted. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Idempotency keys for the mutations and REST endpoints that create something (sendOtp, sendRuleOtp, createRecord,
 * createConnection, POST /api/send-otp): the features after it wrap those in `idempotency.payload` / `.answer`.
 */
export const idempotencyFeature = defineFeature({
  name: 'idempotency',
  entities: [IdempotencyKeyEntity],
  resolvers: [],
  loaders: () => ({}),
  build({ db, clock, log, config }: IdempotencyNeeds) {
    const idempotency = new IdempotencyService(new IdempotencyKeyRepository(db), clock, config.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS * 1000, log);
    let sweep: NodeJS.Timeout | null = null;
    return {
      services: { idempotency },
      resolvers: [],
      async start() {
        sweep = setInterval(() => {
          idempotency.deleteExpired().catch((error) => log.warn({ err: error }, 'could not delete expired idempotency keys'));
        }, SWEEP_INTERVAL_MS);
        sweep.unref();
      },
      async stop() {
        if (sweep) clearInterval(sweep);
      },
    };
  },
});
