import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ADMIN_ROLES } from '../auth/roles';
import type { RequestContext } from '../core/context';
import { toPayload, UserErrorException } from '../core/errors';
import { makePage, PageArgs } from '../core/pagination';
import { EVENT_TYPES } from './event-types';
import type { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entities';
import type { WebhookService } from './webhook.service';
import {
  CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDeliveryAttemptType, WebhookDeliveryPage, WebhookDeliveryPayload,
  WebhookDeliveryStatusEnum, WebhookDeliveryType, WebhookEndpointPage, WebhookEndpointPayload, WebhookEndpointType,
} from './webhook.types';

@Resolver(() => WebhookEndpointType)
export class WebhookEndpointResolver {
  constructor(private readonly webhooks: WebhookService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => [String], { description: 'The domain event types a webhook endpoint can take.' })
  webhookEventTypes(): string[] {
    return [...EVENT_TYPES];
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => WebhookEndpointPage, { description: 'Webhook endpoints, oldest first (admins).' })
  async webhookEndpoints(@Args(() => PageArgs) { first, after }: PageArgs): Promise<WebhookEndpointPage> {
    return makePage(WebhookEndpointPage, await this.webhooks.page(first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => WebhookEndpointType, { nullable: true })
  webhookEndpoint(@Arg('id', () => ID) id: string): Promise<WebhookEndpointEntity | null> {
    return this.webhooks.get(id);
  }

  @FieldResolver(() => WebhookDeliveryPage, { description: 'This endpoint\'s delivery log, newest first.' })
  async deliveries(
    @Root() endpoint: WebhookEndpointEntity,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('status', () => WebhookDeliveryStatusEnum, { nullable: true }) status?: WebhookDeliveryStatusEnum | null,
  ): Promise<WebhookDeliveryPage> {
    return makePage(WebhookDeliveryPage, await this.webhooks.deliveries(endpoint.id, status ?? null, first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => WebhookEndpointPayload, { description: 'Adds an endpoint; the answer carries its signing secret, shown this once.' })
  createWebhookEndpoint(@Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput, @Ctx() ctx: RequestContext): Promise<WebhookEndpointPayload> {
    return withSecret(() => this.webhooks.create(ctx, input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => WebhookEndpointPayload)
  updateWebhookEndpoint(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput): Promise<WebhookEndpointPayload> {
    return toPayload('webhookEndpoint', () => this.webhooks.update(id, input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => WebhookEndpointPayload, { description: 'A new signing secret, shown this once; the old one stops at once.' })
  rotateWebhookEndpointSecret(@Arg('id', () => ID) id: string): Promise<WebhookEndpointPayload> {
    return withSecret(() => this.webhooks.rotateSecret(id));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => WebhookEndpointPayload)
  deleteWebhookEndpoint(@Arg('id', () => ID) id: string): Promise<WebhookEndpointPayload> {
    return toPayload('webhookEndpoint', () => this.webhooks.delete(id));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => WebhookDeliveryPayload, { description: 'Sends a delivery\'s message again (same webhook-id), as a new delivery.' })
  replayWebhookDelivery(@Arg('id', () => ID) id: string): Promise<WebhookDeliveryPayload> {
    return toPayload('webhookDelivery', () => this.webhooks.replay(id));
  }
}

@Resolver(() => WebhookDeliveryType)
export class WebhookDeliveryResolver {
  @FieldResolver(() => [WebhookDeliveryAttemptType], { description: 'Every HTTP attempt: status, response code, duration.' })
  attemptLog(@Root() delivery: WebhookDeliveryEntity, @Ctx() ctx: RequestContext): Promise<WebhookDeliveryAttemptEntity[]> {
    return ctx.loaders.webhookAttempts.load(delivery.id);
  }
}

/** The payload of a change that reveals the endpoint's signing secret (this once), or its userErrors. */
async function withSecret(change: () => Promise<{ endpoint: WebhookEndpointEntity; secret: string }>): Promise<WebhookEndpointPayload> {
  try {
    const { endpoint, secret } = await change();
    return { webhookEndpoint: endpoint, secret, userErrors: [] };
  } catch (error) {
    if (error instanceof UserErrorException) return { webhookEndpoint: null, secret: null, userErrors: error.userErrors };
    throw error;
  }
}
