import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../../core/config';
import { queryRows, type Queryable } from '../../db/sql';
import type { Statement } from '../pipelined-sql';

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
  /** pg-boss queries and delivery handlers still running (pg-boss does not await its own job completions). */
  private inFlight = 0;

  constructor(pool: Pool, private readonly config: Pick<AppConfig, 'OTP_DELIVERY_RETRY_DELAY_SECONDS' | 'OTP_DELIVERY_RETRY_LIMIT' | 'OTP_PROVIDER_TIMEOUT_MS' | 'SHUTDOWN_TIMEOUT_MS'>, private readonly log: Logger) {
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => this.track(pool.query(text, values)) },
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

  /**
   * The one INSERT of a job per delivery, as a statement for the send's pipelined transaction: pg-boss's own
   * `insert` (its SQL and values, captured rather than run), so the jobs are exactly those `enqueue` would write.
   */
  async enqueueStatement(deliveryIds: string[]): Promise<Statement> {
    await this.start();
    let captured: Statement | null = null;
    const capture = { executeSql: async (sql: string, params: unknown[]) => { captured = { sql, params }; return { rows: [] }; } };
    await this.boss.insert(deliveryIds.map((deliveryId) => ({
      name: DELIVERY_QUEUE,
      data: { deliveryId } satisfies DeliveryJob,
      retryLimit: this.config.OTP_DELIVERY_RETRY_LIMIT,
      retryDelay: this.config.OTP_DELIVERY_RETRY_DELAY_SECONDS,
      retryBackoff: true,
    })), { db: capture });
    if (!captured) throw new Error('pg-boss wrote no job statement');
    return captured;
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
    await this.boss.work<DeliveryJob>(DELIVERY_QUEUE, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => this.track(handler(job)));
  }

  /** Lets running jobs finish (up to the shutdown timeout), then stops polling. */
  async stop(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    const timeout = Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS);
    const deadline = Date.now() + timeout;
    await this.boss.stop({ graceful: true, close: false, wait: true, timeout });
    // pg-boss marks a finished job complete without awaiting it, and a fetch under way at stop may still hand over a
    // job: wait for those, or the pool closes under them (an unhandled "Cannot use a pool after calling end")
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight += 1;
    return work.finally(() => { this.inFlight -= 1; });
  }
}
