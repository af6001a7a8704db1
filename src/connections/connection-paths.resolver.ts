import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { GraphQLLocalDate } from 'graphql-scalars';
import type { RequestContext } from '../core/context';
import type { RecordEntity } from '../records/record.entity';
import { RecordType } from '../records/record.types';
import type { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionTypeType } from './connection-type.types';
import type { ConnectionEntity } from './connection.entity';
import { ConnectionObjectType } from './connection.types';
import { checkPathOptions, type ConnectionPathService, type FoundPath } from './connection-paths';
import {
  ConflictCheckResultType, ConflictView, ConnectionPathStepType, ConnectionPathType, PathStepView, PathView,
} from './connection-paths.types';

function toView(path: FoundPath): PathView {
  return new PathView(path.recordIds, path.connections.map((c, i) => new PathStepView(c, path.recordIds[i], path.recordIds[i + 1])));
}

function liveIdsOf(ctx: RequestContext) {
  return async (ids: string[]) => {
    const found = await ctx.loaders.records.loadMany(ids);
    return new Set(found.filter((r): r is RecordEntity => !!r && !(r instanceof Error) && r.deletedAt === null).map((r) => r.id));
  };
}

@Resolver()
export class ConnectionPathsResolver {
  constructor(private readonly paths: ConnectionPathService) {}

  @Query(() => [ConnectionPathType], { description: 'The shortest chains of connections from one record to another (at most maxHops ≤ 4), through live records only, shortest first.' })
  async connectionPaths(
    @Arg('from', () => ID) from: string,
    @Arg('to', () => ID) to: string,
    @Ctx() ctx: RequestContext,
    @Arg('maxHops', () => Int, { defaultValue: 3 }) maxHops: number,
    @Arg('typeIds', () => [ID], { nullable: true, description: 'Walk only connections of these types.' }) typeIds?: string[] | null,
    @Arg('activeOn', () => GraphQLLocalDate, { nullable: true, description: 'Walk only connections in force that day.' }) activeOn?: string | null,
    @Arg('first', () => Int, { defaultValue: 5, description: 'At most this many paths (≤ 20).' }) first = 5,
  ): Promise<PathView[]> {
    const found = await this.paths.paths(liveIdsOf(ctx), from, to, checkPathOptions({ maxHops, typeIds, activeOn }), first);
    return found.map(toView);
  }

  @Query(() => [ConflictCheckResultType], { description: 'Which of the `against` records (≤ 100) are linked to `recordId` within maxHops (≤ 4), each with a shortest path.' })
  async conflictCheck(
    @Arg('recordId', () => ID) recordId: string,
    @Arg('against', () => [ID]) against: string[],
    @Ctx() ctx: RequestContext,
    @Arg('maxHops', () => Int, { defaultValue: 2 }) maxHops: number,
    @Arg('typeIds', () => [ID], { nullable: true }) typeIds?: string[] | null,
    @Arg('activeOn', () => GraphQLLocalDate, { nullable: true }) activeOn?: string | null,
  ): Promise<ConflictView[]> {
    const options = checkPathOptions({ maxHops, typeIds, activeOn });
    const results = await this.paths.conflicts(liveIdsOf(ctx), recordId, against, options);
    return results.map((r) => new ConflictView(r.recordId, true, r.path ? toView(r.path) : null));
  }
}

@Resolver(() => ConnectionPathType)
export class ConnectionPathResolver {
  @FieldResolver(() => [RecordType], { description: 'The records along the path, from the start to the end.' })
  async records(@Root() path: PathView, @Ctx() ctx: RequestContext): Promise<RecordEntity[]> {
    return (await ctx.loaders.records.loadMany(path.recordIds)) as RecordEntity[];
  }
}

@Resolver(() => ConnectionPathStepType)
export class ConnectionPathStepResolver {
  @FieldResolver(() => String, { description: 'What the hop means from the walker\'s record: the type\'s `name` (OUTGOING, MUTUAL) or `inverseName` (INCOMING).' })
  async label(@Root() step: PathStepView, @Ctx() ctx: RequestContext): Promise<string> {
    const type = (await ctx.loaders.connectionTypes.load(step.connection.typeId))!;
    return step.connection.sourceId === step.fromId || type.symmetric ? type.name : type.inverseName;
  }

  @FieldResolver(() => RecordType, { description: 'The record the walker leaves.' })
  async from(@Root() step: PathStepView, @Ctx() ctx: RequestContext): Promise<RecordEntity> {
    return (await ctx.loaders.records.load(step.fromId))!;
  }

  @FieldResolver(() => RecordType, { description: 'The record the walker reaches.' })
  async to(@Root() step: PathStepView, @Ctx() ctx: RequestContext): Promise<RecordEntity> {
    return (await ctx.loaders.records.load(step.toId))!;
  }

  @FieldResolver(() => ConnectionTypeType)
  async type(@Root() step: PathStepView, @Ctx() ctx: RequestContext): Promise<ConnectionTypeEntity> {
    return (await ctx.loaders.connectionTypes.load(step.connection.typeId))!;
  }

  @FieldResolver(() => ConnectionObjectType)
  connection(@Root() step: PathStepView): ConnectionEntity {
    return step.connection;
  }
}

@Resolver(() => ConflictCheckResultType)
export class ConflictCheckResultResolver {
  @FieldResolver(() => RecordType, { nullable: true, description: 'The record, unless no live record has this id.' })
  async record(@Root() result: ConflictView, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    const record = await ctx.loaders.records.load(result.recordId);
    return record && record.deletedAt === null ? record : null;
  }
}
