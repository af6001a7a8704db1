import type { Clock } from '../core/clock';
import type { RequestContext } from '../core/context';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import type { PageSource } from '../core/pagination';
import { isEventType } from './event-types';
import { urlProblem } from './webhook-address';
import type { WebhookDeliveryEntity, WebhookDeliveryStatus, WebhookEndpointEntity } from './webhook.entities';
import type { WebhookRepository } from './webhook.repository';
import type { WebhookSecrets } from './webhook-secrets';

export interface EndpointFields {
  url?: string | null;
  description?: string | null;
  eventTypes?: string[] | null;
  active?: boolean | null;
}

/** An endpoint as created: its secret is in this answer and nowhere else, ever. */
export interface CreatedEndpoint {
  endpoint: WebhookEndpointEntity;
  secret: string;
}

/** Admins' management of webhook endpoints and their deliveries (the resolver checks the role). */
export class WebhookService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    private readonly dispatched: () => void,
  ) {}

  async create(ctx: RequestContext, fields: EndpointFields): Promise<CreatedEndpoint> {
    const errors = checkFields(fields, true);
    if (errors.length) throw new UserErrorException(errors);
    const secret = this.secrets.generate();
    const endpoint = await this.webhooks.insertEndpoint({
      url: fields.url!.trim(), description: fields.description?.trim() || null, eventTypes: unique(fields.eventTypes ?? []),
      active: fields.active ?? true, secretSealed: this.secrets.seal(secret), createdBy: ctx.user.id,
    });
    return { endpoint, secret };
  }

  /** Changes what is given; `active: true` turns a disabled endpoint back on (its pending deliveries resume). */
  async update(id: string, fields: EndpointFields): Promise<WebhookEndpointEntity> {
    const errors = checkFields(fields, false);
    if (errors.length) throw new UserErrorException(errors);
    const updated = await this.webhooks.updateEndpoint(id, {
      url: fields.url?.trim(), description: fields.description === undefined ? undefined : fields.description?.trim() || null,
      eventTypes: fields.eventTypes ? unique(fields.eventTypes) : undefined, active: fields.active ?? undefined,
    });
    if (!updated) throw notFound('id');
    if (updated.active) this.dispatched();
    return updated;
  }

  /** A new secret, shown once; the old one stops signing at once. */
  async rotateSecret(id: string): Promise<CreatedEndpoint> {
    const secret = this.secrets.generate();
    const endpoint = await this.webhooks.updateEndpoint(id, { secretSealed: this.secrets.seal(secret) });
    if (!endpoint) throw notFound('id');
    return { endpoint, secret };
  }

  async delete(id: string): Promise<WebhookEndpointEntity> {
    const endpoint = await this.webhooks.findEndpoint(id);
    if (!endpoint || !(await this.webhooks.deleteEndpoint(endpoint.id))) throw notFound('id');
    return endpoint;
  }

  get(id: string): Promise<WebhookEndpointEntity | null> {
    return this.webhooks.findEndpoint(id);
  }

  page(first: number, after?: string | null): Promise<PageSource<WebhookEndpointEntity>> {
    return this.webhooks.endpointPage(first, after);
  }

  deliveries(endpointId: string, status: WebhookDeliveryStatus | null, first: number, after?: string | null): Promise<PageSource<WebhookDeliveryEntity>> {
    return this.webhooks.deliveryPage(endpointId, status, first, after);
  }

  /** Sends a delivery's message again, as a new delivery with the same `webhook-id` (receivers may deduplicate on it). */
  async replay(deliveryId: string): Promise<WebhookDeliveryEntity> {
    const delivery = await this.webhooks.findDelivery(deliveryId);
    if (!delivery) throw notFound('id');
    const replayed = await this.webhooks.replay(delivery, this.clock.now());
    this.dispatched();
    return replayed;
  }
}

function checkFields(fields: EndpointFields, creating: boolean): UserError[] {
  const errors: UserError[] = [];
  if (creating && !fields.url?.trim()) errors.push(new UserError(ErrorCode.REQUIRED, 'The URL is required.', ['input', 'url']));
  else if (fields.url != null) {
    const problem = urlProblem(fields.url.trim());
    if (problem) errors.push(new UserError(ErrorCode.INVALID, problem, ['input', 'url']));
  }
  if (fields.description != null && fields.description.trim().length > 200) {
    errors.push(new UserError(ErrorCode.INVALID, 'The description must be at most 200 characters.', ['input', 'description']));
  }
  (fields.eventTypes ?? []).forEach((type, i) => {
    if (!isEventType(type)) errors.push(new UserError(ErrorCode.INVALID, `"${type.slice(0, 64)}" is not an event type (see docs/events.md).`, ['input', 'eventTypes', String(i)]));
  });
  if ((fields.eventTypes ?? []).length > 50) errors.push(new UserError(ErrorCode.INVALID, 'At most 50 event types.', ['input', 'eventTypes']));
  return errors;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function notFound(field: string): UserErrorException {
  return UserErrorException.of(ErrorCode.NOT_FOUND, 'Nothing has this id.', [field]);
}
