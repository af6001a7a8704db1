import { Arg, Args, Authorized, Mutation, Query, Resolver } from 'type-graphql';
import { makePage, PageArgs } from '../../core/pagination';
import { ADMIN_ROLES } from '../../auth/roles';
import { toPayload } from '../../core/errors';
import type { MessageTemplateEntity } from './message-template.entity';
import type { MessageTemplateService } from './message-template.service';
import {
  CreateMessageTemplateInput, MessageTemplateFilterInput, MessageTemplatePage, MessageTemplatePayload, MessageTemplateType, UpdateMessageTemplateInput,
} from './message-template.types';

@Resolver(() => MessageTemplateType)
export class MessageTemplateResolver {
  constructor(private readonly templates: MessageTemplateService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => MessageTemplatePage, { description: 'Message templates by id (admins), optionally of one channel.' })
  async messageTemplates(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => MessageTemplateFilterInput, { nullable: true }) filter?: MessageTemplateFilterInput | null,
  ): Promise<MessageTemplatePage> {
    return makePage(MessageTemplatePage, await this.templates.page(filter ?? {}, first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => MessageTemplateType, { nullable: true })
  messageTemplate(@Arg('id', () => String) id: string): Promise<MessageTemplateEntity | null> {
    return this.templates.get(id);
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => MessageTemplatePayload)
  createMessageTemplate(@Arg('input', () => CreateMessageTemplateInput) input: CreateMessageTemplateInput): Promise<MessageTemplatePayload> {
    return toPayload('messageTemplate', () => this.templates.create({ ...input, channel: input.channel }));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => MessageTemplatePayload)
  updateMessageTemplate(
    @Arg('id', () => String) id: string,
    @Arg('input', () => UpdateMessageTemplateInput) input: UpdateMessageTemplateInput,
  ): Promise<MessageTemplatePayload> {
    return toPayload('messageTemplate', () => this.templates.update(id, input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => MessageTemplatePayload, { description: 'Deletes a template; the three defaults cannot be deleted.' })
  deleteMessageTemplate(@Arg('id', () => String) id: string): Promise<MessageTemplatePayload> {
    return toPayload('messageTemplate', () => this.templates.delete(id));
  }
}
