import { Field, InputType, ObjectType } from 'type-graphql';
import { UserError } from '../../core/errors';
import { PageOf } from '../../core/pagination';
import { OtpChannelEnum } from '../otp.types';
import type { MessageTemplateEntity } from './message-template.entity';
import type { OtpChannel } from '../otp-request.entity';

@ObjectType('MessageTemplate', { description: 'A message with {{variables}}; {{otp}} and {{expiresInMinutes}} are always provided.' })
export class MessageTemplateType {
  @Field(() => String, { description: 'A slug such as overseas_otp.' }) id: string;
  @Field(() => OtpChannelEnum) channel: OtpChannel;
  @Field(() => String, { nullable: true, description: 'Email subject used when a send gives none.' }) subject: string | null;
  @Field(() => String, { description: 'Plain-text body (the SMS text, the email text part).' }) body: string;
  @Field(() => String, { nullable: true, description: 'HTML email body; values are HTML-escaped.' }) htmlBody: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

@InputType()
export class CreateMessageTemplateInput {
  @Field(() => String) id: string;
  @Field(() => OtpChannelEnum) channel: OtpChannel;
  @Field(() => String, { nullable: true }) subject?: string | null;
  @Field(() => String) body: string;
  @Field(() => String, { nullable: true }) htmlBody?: string | null;
}

@InputType({ description: 'The fields to change; null clears subject or htmlBody.' })
export class UpdateMessageTemplateInput {
  @Field(() => String, { nullable: true }) subject?: string | null;
  @Field(() => String, { nullable: true }) body?: string | null;
  @Field(() => String, { nullable: true }) htmlBody?: string | null;
}

@ObjectType()
export class MessageTemplatePayload {
  @Field(() => MessageTemplateType, { nullable: true }) messageTemplate: MessageTemplateEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType({ description: 'Message templates by id.' })
export class MessageTemplatePage extends PageOf<MessageTemplateEntity>(MessageTemplateType, 'MessageTemplate') {}

@InputType()
export class MessageTemplateFilterInput {
  @Field(() => OtpChannelEnum, { nullable: true }) channel?: OtpChannel | null;
}
