import type { Logger } from 'pino';
import type { Clock } from '../core/clock';
import type { WebhookRepository, ClaimedDelivery } from './webhook.repository';
import { signWebhook, type WebhookSecrets } from './webhook-secrets';
import { postWebhook, type WebhookSendOptions } from './webhook-sender';

/** Waits after the 1st, 2nd, … failed attempt (Standard Webhooks' suggested schedule); the last one is clamped to 24 h. */
export const RETRY_DELAYS_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000];
/** A delivery is retried this long after its event, and an endpoint failing this long is turned off. */
export const GIVE_UP_AFTER_MS = 24 * 3600_000;

export interface DispatcherOptions extends WebhookSendOptions {
  pollIntervalMs: number;
  batchSize: number;
  /** Least time between two ticks: a burst of events (one NOTIFY each) costs one tick per this interval, not one per event. */
  minTickGapMs: number;
}

/**
 * The webhook dispatcher: a claim loop over Postgres (not pg-boss), because ordering per subject needs to see the
 * subject's other pending deliveries, which a job queue does not. Each tick fans new outbox events out to the
 * matching endpoints, then claims due deliveries (the oldest pending of each subject) and POSTs them. It runs in
 * every instance; claims use SKIP LOCKED and a lease, so instances share the work and a crash only delays it.
 * Woken by the events' NOTIFY, and by a poll for retries that came due.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private ticks = 0;
  private lastTickAt = 0;
  private pending: NodeJS.Timeout | null = null;

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    private readonly options: DispatcherOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a tick now, or as soon as the one under way and the least gap between ticks allow. */
  wake(): void {
    if (this.stopped || this.pending) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.lastTickAt + this.options.minTickGapMs - Date.now();
    if (wait > 0) {
      this.pending = setTimeout(() => { this.pending = null; this.wake(); }, wait);
      this.pending.unref();
      return;
    }
    this.lastTickAt = Date.now();
    this.running = this.tick()
      .catch((error) => this.log.warn({ err: error }, 'webhook dispatch tick failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    await this.running;
  }

  private async tick(): Promise<void> {
    const now = this.clock.now();
    while ((await this.webhooks.fanOut(now, this.options.batchSize)) === this.options.batchSize && !this.stopped);
    for (;;) {
      const claimed = await this.webhooks.claimDue(this.clock.now(), new Date(this.clock.now().getTime() + this.options.timeoutMs * 2 + 5000), this.options.batchSize);
      if (claimed.length === 0 || this.stopped) break;
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    }
    if ((this.ticks += 1) % 600 === 0) await this.webhooks.pruneOutbox(new Date(now.getTime() - 7 * 24 * 3600_000));
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const now = this.clock.now();
    const messageId = `msg_${delivery.eventId}`;
    const timestamp = Math.floor(now.getTime() / 1000);
    let outcome;
    try {
      const signature = signWebhook(this.secrets.unseal(delivery.secretSealed), messageId, timestamp, delivery.body);
      const response = await postWebhook(delivery.url, {
        'webhook-id': messageId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature,
      }, delivery.body, this.options);
      outcome = {
        succeeded: response.ok, responseCode: response.statusCode, durationMs: response.durationMs,
        error: response.ok ? null : response.error ?? `The endpoint answered HTTP ${response.statusCode}.`,
      };
    } catch (error) {
      outcome = { succeeded: false, responseCode: null, durationMs: 0, error: `Could not send: ${(error as Error).message}` };
    }
    const after = this.clock.now();
    await this.webhooks.recordAttempt(delivery, outcome, after, outcome.succeeded ? null : retryAt(delivery, after), GIVE_UP_AFTER_MS);
    this.log.info({ deliveryId: delivery.id, endpointId: delivery.endpointId, eventType: delivery.eventType, attempt: delivery.attempts + 1,
      succeeded: outcome.succeeded, responseCode: outcome.responseCode, durationMs: outcome.durationMs }, 'webhook delivery attempt');
  }
}

/** When a failed delivery is tried again, or null when its 24 hours are over. */
export function retryAt(delivery: { attempts: number; createdAt: Date }, now: Date): Date | null {
  const deadline = delivery.createdAt.getTime() + GIVE_UP_AFTER_MS;
  if (now.getTime() >= deadline) return null;
  const delay = RETRY_DELAYS_MS[Math.min(delivery.attempts, RETRY_DELAYS_MS.length - 1)];
  return new Date(Math.min(now.getTime() + delay, deadline));
}
