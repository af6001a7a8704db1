import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import type { Clock } from '../core/clock';
import { defineFeature } from '../core/feature';
import type { Notifications } from '../db/notifications';
import { EVENTS_CHANNEL, EventPublisher } from './event-publisher';
import { EventStream } from './event-stream';
import { OutboxEventEntity } from './outbox-event.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entities';
import { webhookAttemptsLoader } from './webhook.loaders';
import { WebhookRepository } from './webhook.repository';
import { WebhookDeliveryResolver, WebhookEndpointResolver } from './webhook.resolver';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookService } from './webhook.service';

export interface EventsNeeds {
  db: DataSource;
  notifications: Notifications;
  clock: Clock;
  secretKey: string;
  log: Logger;
  config: Pick<AppConfig, 'WEBHOOKS_ALLOW_PRIVATE' | 'WEBHOOKS_WORKER' | 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_MAX_RESPONSE_BYTES' | 'WEBHOOK_POLL_INTERVAL_MS'>;
}

/**
 * Domain events: the outbox other features publish into inside their own transactions (`events.publish(tx, …)`),
 * the stream subscriptions listen to (LISTEN/NOTIFY, so every instance hears every change), and webhooks out.
 */
export const eventsFeature = defineFeature({
  name: 'events',
  entities: [OutboxEventEntity, WebhookEndpointEntity, WebhookDeliveryEntity, WebhookDeliveryAttemptEntity],
  resolvers: [WebhookEndpointResolver, WebhookDeliveryResolver],
  loaders: (db) => ({ webhookAttempts: webhookAttemptsLoader(db) }),
  build({ db, notifications, clock, secretKey, log, config }: EventsNeeds) {
    const events = new EventPublisher();
    const eventStream = new EventStream(notifications);
    const secrets = new WebhookSecrets(secretKey);
    const repository = new WebhookRepository(db);
    const dispatcher = config.WEBHOOKS_WORKER
      ? new WebhookDispatcher(repository, secrets, clock, {
        pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS, minTickGapMs: Math.min(100, config.WEBHOOK_POLL_INTERVAL_MS), batchSize: 50, timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        maxResponseBytes: config.WEBHOOK_MAX_RESPONSE_BYTES, allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE,
      }, log.child({ component: 'webhooks' }))
      : null;
    if (dispatcher) notifications.on(EVENTS_CHANNEL, () => dispatcher.wake());
    const webhooks = new WebhookService(repository, secrets, clock, () => dispatcher?.wake());
    return {
      services: { events, eventStream, webhooks },
      resolvers: [new WebhookEndpointResolver(webhooks), new WebhookDeliveryResolver()],
      async start() {
        dispatcher?.start();
      },
      async stop() {
        await dispatcher?.stop();
      },
    };
  },
});
