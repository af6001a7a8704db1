import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../../app/config';
import { queryRows, type Queryable } from '../../db/sql';

export const DELIVERY_QUEUE = 'otp-delivery';

export interface DeliveryJob {
  deliveryId: string;
}

/**
 * The durable queue (pg-boss, in Postgres) between a send and its providers. Jobs are inserted through the sender's
 * own transaction, so a request and its deliveries exist together or not at all.
 */
export class DeliveryQueue {
  private readonly boss: PgBoss;
  private started: Promise<void> | null = null;

  constructor(pool: Pool, private readonly config: AppConfig, private readonly log: Logger) {
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => pool.query(text, values) },
      schedule: false,
      // jobs stuck "active" by a killed process are retried after this
      expireInSeconds: Math.max(60, Math.ceil(config.OTP_PROVIDER_TIMEOUT_MS / 1000) * 3),
    });
    this.boss.on('error', (error) => this.log.error({ err: error }, 'OTP delivery queue error'));
  }

  /** Creates pg-boss's schema and the queue when missing. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.boss.start();
      await this.boss.createQueue(DELIVERY_QUEUE, {
        name: DELIVERY_QUEUE,
        retryLimit: this.config.OTP_DELIVERY_RETRY_LIMIT,
        retryDelay: this.config.OTP_DELIVERY_RETRY_DELAY_SECONDS,
        retryBackoff: true,
      });
    })();
    return this.started;
  }

  /** Queues one job per delivery inside `tx`. */
  async enqueue(tx: Queryable, deliveryIds: string[]): Promise<void> {
    await this.start();
    const db = { executeSql: async (text: string, values: unknown[]) => ({ rows: await queryRows(tx, text, values) }) };
    for (const deliveryId of deliveryIds) {
      await this.boss.send(DELIVERY_QUEUE, { deliveryId } satisfies DeliveryJob, {
        db,
        retryLimit: this.config.OTP_DELIVERY_RETRY_LIMIT,
        retryDelay: this.config.OTP_DELIVERY_RETRY_DELAY_SECONDS,
        retryBackoff: true,
      });
    }
  }

  /** Runs `handler` for each job; a throw makes pg-boss retry with backoff until the retry limit. */
  async work(handler: (job: PgBoss.JobWithMetadata<DeliveryJob>) => Promise<void>): Promise<void> {
    await this.start();
    await this.boss.work<DeliveryJob>(DELIVERY_QUEUE, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => handler(job));
  }

  /** Lets running jobs finish (up to the shutdown timeout), then stops polling. */
  async stop(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    await this.boss.stop({ graceful: true, close: false, wait: true, timeout: Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS) });
  }
}
