import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { WebhookDeliveryAttemptEntity } from './webhook.entities';
import { WebhookRepository } from './webhook.repository';

declare module '../core/context' {
  interface Loaders {
    /** The attempt log of each webhook delivery, by delivery id. */
    webhookAttempts: DataLoader<string, WebhookDeliveryAttemptEntity[]>;
  }
}

export function webhookAttemptsLoader(db: DataSource): DataLoader<string, WebhookDeliveryAttemptEntity[]> {
  const webhooks = new WebhookRepository(db);
  return new DataLoader<string, WebhookDeliveryAttemptEntity[]>(async (ids) => {
    const byDelivery = new Map<string, WebhookDeliveryAttemptEntity[]>();
    for (const attempt of await webhooks.attemptsOf(ids)) byDelivery.set(attempt.deliveryId, [...(byDelivery.get(attempt.deliveryId) ?? []), attempt]);
    return ids.map((id) => byDelivery.get(id) ?? []);
  }, { maxBatchSize: 1000 });
}
