import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Int, Resolver, Root } from 'type-graphql';
import { BadUserInput } from '../core/errors';
import { attachLoaded } from '../core/loader';
import { ConnectionDirection } from './connection.enums';
import type { RequestContext } from '../core/context';
import { makePage, PageArgs } from '../core/pagination';
import type { RecordEntity } from '../records/record.entity';
import { RecordType } from '../records/record.types';
import type { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionTypeType } from './connection-type.types';
import type { ConnectionEntity } from './connection.entity';
import { normaliseRecordFilter, PARTIAL_OTHER_FIELDS } from './connection.query';
import { selectsOnly, selectsPath } from '../core/selection';
import {
  ConnectionObjectType, RecordConnectionFilterInput, RecordConnectionGroupType, RecordConnectionPage, RecordConnectionType,
} from './connection.types';
import { todayUtc, type RecordConnectionView } from './record-connection.view';
import { checkAsOf } from './connection-history';
import { GraphQLLocalDate } from 'graphql-scalars';

/** `Record.connections`: lives here so that records never import connections. */
@Resolver(() => RecordType)
export class RecordConnectionsResolver {
  @FieldResolver(() => RecordConnectionPage, { description: 'This record\'s connections, from its side, oldest first. Connections to deleted records are hidden.' })
  async connections(
    @Root() record: RecordEntity,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => RecordConnectionFilterInput, { nullable: true }) filterInput?: RecordConnectionFilterInput | null,
    @Arg('asOf', () => GraphQLLocalDate, {
      nullable: true,
      description: 'The list as it stood at the end of that day (UTC), from the connection history: connections deleted since are back, later ones absent, each with its values of then; `status` and the `status` filter are computed for that day. Today at most.',
    }) asOf?: string | null,
  ): Promise<RecordConnectionPage> {
    const filter = normaliseRecordFilter(filterInput, checkAsOf(asOf, todayUtc()));
    const partialOther = asksLittleOfOtherRecords(info);
    const slice = await ctx.loaders.recordConnections.load({ recordId: record.id, filter, first, after: after ?? null, partialOther });
    primeOtherRecords(slice.views, ctx);
    // the views' types in the one statement their `type` and `label` fields would make, so each answers synchronously
    await attachLoaded(slice.views, (view) => view.connection.typeId, ctx.loaders.connectionTypes, (view, type) => { view.type = type; });
    return makePage(RecordConnectionPage, {
      rows: slice.views,
      first,
      cursorOf: (view) => view.cursor,
      count: () => ctx.loaders.recordConnectionCounts.load({ recordId: record.id, filter }),
    });
  }
}

/** A group as answered: its slice, with the page of its first connections already made. */
export class RecordConnectionGroupView {
  constructor(readonly typeId: string, readonly direction: ConnectionDirection, readonly totalCount: number, readonly connections: RecordConnectionPage) {}
}

@Resolver(() => RecordType)
export class RecordConnectionGroupsResolver {
  @FieldResolver(() => [RecordConnectionGroupType], {
    description: 'This record\'s connections grouped by label (type and side), groups in label order, each with its count and first `first` connections. Takes the same filter and asOf as `connections`.',
  })
  async connectionGroups(
    @Root() record: RecordEntity,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: 5, description: 'Connections per group (≤ 100).' }) first: number,
    @Arg('filter', () => RecordConnectionFilterInput, { nullable: true }) filterInput?: RecordConnectionFilterInput | null,
    @Arg('asOf', () => GraphQLLocalDate, { nullable: true }) asOf?: string | null,
  ): Promise<RecordConnectionGroupView[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw new BadUserInput(`first must be between 1 and 100; got ${first}.`, 'first');
    const filter = normaliseRecordFilter(filterInput, checkAsOf(asOf, todayUtc()));
    const groups = await ctx.loaders.recordConnectionGroups.load({ recordId: record.id, filter, first });
    const views = await Promise.all(groups.map(async (group) => {
      primeOtherRecords(group.views, ctx);
      const type = (await ctx.loaders.connectionTypes.load(group.typeId))!;
      for (const view of group.views) view.type = type;
      const label = group.direction === ConnectionDirection.INCOMING ? type.inverseName : type.name;
      const page = makePage(RecordConnectionPage, { rows: group.views, first, cursorOf: (view) => view.cursor, count: async () => group.totalCount });
      return { label, view: new RecordConnectionGroupView(group.typeId, group.direction, group.totalCount, page) };
    }));
    return views.sort((a, b) => a.label.localeCompare(b.label) || a.view.typeId.localeCompare(b.view.typeId)).map((v) => v.view);
  }
}

@Resolver(() => RecordConnectionGroupType)
export class RecordConnectionGroupResolver {
  @FieldResolver(() => String, { description: 'What every connection of the group reads as from this record.' })
  async label(@Root() group: RecordConnectionGroupView, @Ctx() ctx: RequestContext): Promise<string> {
    const type = (await ctx.loaders.connectionTypes.load(group.typeId))!;
    return group.direction === ConnectionDirection.INCOMING ? type.inverseName : type.name;
  }

  @FieldResolver(() => ConnectionTypeType)
  async type(@Root() group: RecordConnectionGroupView, @Ctx() ctx: RequestContext): Promise<ConnectionTypeEntity> {
    return (await ctx.loaders.connectionTypes.load(group.typeId))!;
  }
}

/**
 * Whether the page asks only id, module or label of its other records: its statement then reads only those (not their
 * `fields` JSON and dates). Not when it also reads a connection's source or target: those are answered by the records
 * loader, which the whole other records, read with the page, are primed into (a partial one never is).
 */
function asksLittleOfOtherRecords(info: GraphQLResolveInfo): boolean {
  return [['nodes'], ['edges', 'node']].every((view) =>
    selectsOnly(info, [...view, 'otherRecord'], PARTIAL_OTHER_FIELDS)
    && !selectsPath(info, [...view, 'connection', 'source']) && !selectsPath(info, [...view, 'connection', 'target']));
}

/** The views' other records, read with them, answer later loads of those ids in this request. */
function primeOtherRecords(views: RecordConnectionView[], ctx: RequestContext): void {
  for (const { otherRecord, otherRecordPartial } of views) if (otherRecord && !otherRecordPartial) ctx.loaders.records.prime(otherRecord.id, otherRecord);
}

/** Its label: the type's name read from the viewer's side. */
function labelOf(view: RecordConnectionView, type: ConnectionTypeEntity): string {
  return view.connection.sourceId === view.viewerId || type.symmetric ? type.name : type.inverseName;
}

@Resolver(() => RecordConnectionType)
export class RecordConnectionResolver {
  @FieldResolver(() => String, { description: 'What the connection means from this record: the type\'s `name` (OUTGOING, MUTUAL) or `inverseName` (INCOMING).' })
  label(@Root() view: RecordConnectionView, @Ctx() ctx: RequestContext): string | Promise<string> {
    if (view.type) return labelOf(view, view.type);
    return ctx.loaders.connectionTypes.load(view.connection.typeId).then((type) => labelOf(view, type!));
  }

  @FieldResolver(() => ConnectionTypeType)
  type(@Root() view: RecordConnectionView, @Ctx() ctx: RequestContext): ConnectionTypeEntity | Promise<ConnectionTypeEntity> {
    return view.type ?? ctx.loaders.connectionTypes.load(view.connection.typeId) as Promise<ConnectionTypeEntity>;
  }

  @FieldResolver(() => RecordType, { description: 'The record on the other side.' })
  otherRecord(@Root() view: RecordConnectionView, @Ctx() ctx: RequestContext): RecordEntity | Promise<RecordEntity> {
    return view.otherRecord ?? ctx.loaders.records.load(view.otherRecordId) as Promise<RecordEntity>;
  }

  @FieldResolver(() => ConnectionObjectType, { description: 'The connection itself, with its source and target.' })
  connection(@Root() view: RecordConnectionView): ConnectionEntity {
    return view.connection;
  }
}
