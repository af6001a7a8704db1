import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../../core/config';
import { queryRows, type Queryable } from '../../db/sql';
import type { Statement } from '../../db/pipelined-sql';

export const DELIVERY_QUEUE = 'otp-delivery';

export interface DeliveryJob {
  deliveryId: string;
}

/** A delivery to queue: at once, or (a workflow's later step) after a wait. */
export interface QueuedDelivery {
  deliveryId: string;
  startAfterSeconds: number;
}

/** Jobs one worker round claims (one pg-boss fetch: `FOR UPDATE SKIP LOCKED … LIMIT n`). */
export const DELIVERY_BATCH_SIZE = 50;
/** How long an idle worker waits before looking again. */
const POLL_INTERVAL_MS = 500;

/** What a batch handler did with its jobs: the others completed, these failed (pg-boss retries them with backoff). */
export interface BatchOutcome {
  retry: Array<{ jobId: string; reason: string }>;
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
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

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
   * `insert` (its SQL and values, captured rather than run), so the jobs are exactly those pg-boss would write. A
   * workflow's later step is a job that pg-boss hands out no earlier than `startAfterSeconds` after the insert.
   */
  async enqueueStatement(jobs: QueuedDelivery[]): Promise<Statement> {
    await this.start();
    let captured: Statement | null = null;
    const capture = { executeSql: async (sql: string, params: unknown[]) => { captured = { sql, params }; return { rows: [] }; } };
    await this.boss.insert(jobs.map(({ deliveryId, startAfterSeconds }) => ({
      name: DELIVERY_QUEUE,
      data: { deliveryId } satisfies DeliveryJob,
      retryLimit: this.config.OTP_DELIVERY_RETRY_LIMIT,
      retryDelay: this.config.OTP_DELIVERY_RETRY_DELAY_SECONDS,
      retryBackoff: true,
      // pg-boss adds it to the database's now() (an interval), the clock the delivery's scheduled_at is written with
      ...(startAfterSeconds ? { startAfter: `${startAfterSeconds} seconds` } : {}),
    })), { db: capture });
    if (!captured) throw new Error('pg-boss wrote no job statement');
    return captured;
  }

  /** Queues one job per delivery inside `tx` (the same statement as {@link enqueueStatement}). */
  async enqueue(tx: Queryable, jobs: QueuedDelivery[]): Promise<void> {
    const { sql, params } = await this.enqueueStatement(jobs);
    await queryRows(tx, sql, params);
  }

  /**
   * Runs `handler` on batches of up to DELIVERY_BATCH_SIZE jobs, claimed in one round trip, and settles them in one
   * or two (complete; fail for the retries). A full batch is followed at once by the next; an empty fetch waits
   * POLL_INTERVAL_MS (pg-boss's own `work` waits its polling interval after every fetch, which caps a worker at one
   * batch per interval). A handler that throws fails the whole batch, so pg-boss retries every job of it.
   */
  async work(handler: (jobs: Array<PgBoss.JobWithMetadata<DeliveryJob>>) => Promise<BatchOutcome>): Promise<void> {
    await this.start();
    this.loop ??= (async () => {
      while (!this.stopping) {
        try {
          const jobs = await this.track(this.boss.fetch<DeliveryJob>(DELIVERY_QUEUE, { batchSize: DELIVERY_BATCH_SIZE, includeMetadata: true }));
          if (!jobs?.length) {
            await this.idle();
            continue;
          }
          await this.track(this.settle(jobs, handler));
        } catch (error) {
          this.log.error({ err: error }, 'OTP delivery round failed');
          await this.idle();
        }
      }
    })();
  }

  private async settle(jobs: Array<PgBoss.JobWithMetadata<DeliveryJob>>, handler: (jobs: Array<PgBoss.JobWithMetadata<DeliveryJob>>) => Promise<BatchOutcome>): Promise<void> {
    let outcome: BatchOutcome;
    try {
      outcome = await handler(jobs);
    } catch (error) {
      await this.fail(jobs.map((j) => j.id), (error as Error)?.message ?? String(error));
      return;
    }
    const retried = new Set(outcome.retry.map((r) => r.jobId));
    const byReason = new Map<string, string[]>();
    for (const { jobId, reason } of outcome.retry) byReason.set(reason, [...(byReason.get(reason) ?? []), jobId]);
    for (const [reason, ids] of byReason) await this.fail(ids, reason);
    const done = jobs.filter((j) => !retried.has(j.id)).map((j) => j.id);
    if (done.length) await this.boss.complete(DELIVERY_QUEUE, done);
  }

  /** pg-boss fails many jobs in one statement and keeps `data` as their output (its typings omit that overload). */
  private fail(ids: string[], message: string): Promise<unknown> {
    return (this.boss.fail as unknown as (name: string, ids: string[], data: object) => Promise<unknown>).call(this.boss, DELIVERY_QUEUE, ids, { message });
  }

  private idle(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = null; resolve(); }, POLL_INTERVAL_MS);
      this.wake = () => { clearTimeout(timer); this.wake = null; resolve(); };
    });
  }

  /** Lets running jobs finish (up to the shutdown timeout), then stops polling. */
  async stop(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    const timeout = Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS);
    const deadline = Date.now() + timeout;
    // the worker loop ends after its batch under way
    this.stopping = true;
    this.wake?.();
    if (this.loop) await Promise.race([this.loop, new Promise((resolve) => setTimeout(resolve, timeout).unref())]);
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
