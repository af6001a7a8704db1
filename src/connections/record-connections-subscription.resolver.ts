import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../core/context';
import { Forbidden } from '../core/errors';
import type { StreamedEvent } from '../events/event-stream';
import type { RecordEntity } from '../records/record.entity';
import { RecordType } from '../records/record.types';
import { recordConnectionsTopic } from './connection.events';

@Resolver()
export class RecordConnectionsSubscriptionResolver {
  @Subscription(() => RecordType, {
    topics: ({ args }) => recordConnectionsTopic(String(args.recordId).toLowerCase()),
    description: 'The record now, then again each time one of its connections is created, ended or deleted (select `connections`). Who may see it: as record(id).',
  })
  async recordConnectionsChanged(@Arg('recordId', () => ID) recordId: string, @Root() event: StreamedEvent, @Ctx() ctx: RequestContext): Promise<RecordEntity> {
    const record = await ctx.loaders.records.load(recordId);
    if (!record || record.deletedAt) {
      event.stop();
      throw new Forbidden('No record you may see has this id.');
    }
    return record;
  }
}
