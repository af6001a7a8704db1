import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entities';

export enum WebhookDeliveryStatusEnum {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryStatusEnum, {
  name: 'WebhookDeliveryStatus',
  description: 'PENDING: due or being retried (with backoff, for 24 h); SUCCEEDED: a 2xx answer; FAILED: 24 h of failures.',
});

@ObjectType('WebhookEndpoint', { description: 'Where domain events are POSTed, signed per Standard Webhooks (docs/events.md).' })
export class WebhookEndpointType {
  @Field(() => ID) id: string;
  @Field(() => String) url: string;
  @Field(() => String, { nullable: true }) description: string | null;
  @Field(() => [String], { description: 'Event types sent here; empty: every type.' }) eventTypes: string[];
  @Field(() => Boolean, { description: 'False when an admin turned it off or it failed for 24 h (see disabledReason).' }) active: boolean;
  @Field(() => String, { nullable: true, description: 'Why the server turned the endpoint off.' }) disabledReason: string | null;
  @Field(() => Date, { nullable: true }) disabledAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'Since when every attempt has failed (null after a success).' }) failingSince: Date | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

@ObjectType('WebhookDeliveryAttempt', { description: 'One HTTP attempt of a delivery.' })
export class WebhookDeliveryAttemptType {
  @Field(() => Int) attempt: number;
  @Field(() => Boolean) succeeded: boolean;
  @Field(() => Int, { nullable: true }) responseCode: number | null;
  @Field(() => Int) durationMs: number;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Date) attemptedAt: Date;
}

@ObjectType('WebhookDelivery', { description: 'One event for one endpoint, delivered at least once, in order per subject.' })
export class WebhookDeliveryType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'The `webhook-id` header is `msg_` + this.' }) eventId: string;
  @Field(() => String) eventType: string;
  @Field(() => String, { description: 'What the event is about, e.g. `otp_request:<id>`; deliveries of one subject go out in order.' }) subject: string;
  @Field(() => String, { description: 'The JSON body sent.' }) body: string;
  @Field(() => WebhookDeliveryStatusEnum) status: WebhookDeliveryStatusEnum;
  @Field(() => Int) attempts: number;
  @Field(() => Date, { nullable: true }) nextAttemptAt: Date | null;
  @Field(() => Int, { nullable: true }) lastResponseCode: number | null;
  @Field(() => Int, { nullable: true }) lastDurationMs: number | null;
  @Field(() => String, { nullable: true }) lastError: string | null;
  @Field(() => ID, { nullable: true, description: 'The delivery this one replays.' }) replayOf: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) completedAt: Date | null;
}

@ObjectType()
export class WebhookEndpointPage extends PageOf<WebhookEndpointEntity>(WebhookEndpointType, 'WebhookEndpoint') {}

@ObjectType()
export class WebhookDeliveryPage extends PageOf<WebhookDeliveryEntity>(WebhookDeliveryType, 'WebhookDelivery') {}

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => String, { description: 'https:// URL the events are POSTed to (no redirects are followed).' }) url: string;
  @Field(() => [String], { nullable: true, description: 'Event types to send (see docs/events.md); omitted or empty: all.' }) eventTypes?: string[] | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true, defaultValue: true }) active?: boolean | null;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => [String], { nullable: true }) eventTypes?: string[] | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'true also turns an endpoint the server disabled back on.' }) active?: boolean | null;
}

@ObjectType()
export class WebhookEndpointPayload {
  @Field(() => WebhookEndpointType, { nullable: true }) webhookEndpoint: WebhookEndpointEntity | null;
  @Field(() => String, { nullable: true, description: 'The signing secret (`whsec_…`): shown only in this answer.' }) secret?: string | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class WebhookDeliveryPayload {
  @Field(() => WebhookDeliveryType, { nullable: true }) webhookDelivery: WebhookDeliveryEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}
