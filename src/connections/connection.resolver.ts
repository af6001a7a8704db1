import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../core/context';
import { UserType } from '../auth/auth.types';
import { ADMIN_ROLES, WRITER_ROLES } from '../auth/roles';
import type { UserEntity } from '../auth/user.entity';
import { toPayload } from '../core/errors';
import { makePage, PageArgs } from '../core/pagination';
import type { RecordEntity } from '../records/record.entity';
import { RecordType } from '../records/record.types';
import type { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionTypeType } from './connection-type.types';
import type { ConnectionEntity } from './connection.entity';
import type { ConnectionService } from './connection.service';
import { IDEMPOTENCY_KEY_ARGUMENT } from '../idempotency/idempotency.argument';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import { ConnectionStatus } from './connection.enums';
import {
  ConnectionFilterInput, ConnectionHistoryEntryType, ConnectionHistoryPage, ConnectionObjectType, ConnectionPage, ConnectionPayload, CreateConnectionInput, CreateConnectionsPayload,
  UpdateConnectionInput,
} from './connection.types';
import { statusOf } from './record-connection.view';
import { decodeHistoryCursor, type ConnectionHistoryRow } from './connection-history';

@Resolver(() => ConnectionObjectType)
export class ConnectionResolver {
  constructor(private readonly connectionService: ConnectionService, private readonly idempotency: IdempotencyService) {}

  @Query(() => ConnectionObjectType, { nullable: true, description: 'A connection, unless one of its records is deleted.' })
  connection(@Arg('id', () => ID) id: string): Promise<ConnectionEntity | null> {
    return this.connectionService.get(id);
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => ConnectionPage, { description: 'Every connection (admins), oldest first; to read one record\'s connections use `Record.connections`.' })
  async connections(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => ConnectionFilterInput, { nullable: true }) filter: ConnectionFilterInput | null,
  ): Promise<ConnectionPage> {
    const page = await this.connectionService.page(filter, first, after);
    const cursors = new Map(page.rows.map((r) => [r.connection, r.cursor]));
    return makePage(ConnectionPage, { rows: page.rows.map((r) => r.connection), first, cursorOf: (c) => cursors.get(c)!, count: page.count });
  }

  @FieldResolver(() => ConnectionTypeType)
  async type(@Root() connection: ConnectionEntity, @Ctx() ctx: RequestContext): Promise<ConnectionTypeEntity> {
    return (await ctx.loaders.connectionTypes.load(connection.typeId))!;
  }

  @FieldResolver(() => RecordType, { description: 'The record the type\'s `name` is read from.' })
  async source(@Root() connection: ConnectionEntity, @Ctx() ctx: RequestContext): Promise<RecordEntity> {
    return (await ctx.loaders.records.load(connection.sourceId))!;
  }

  @FieldResolver(() => RecordType, { description: 'The record the type\'s `inverseName` is read from.' })
  async target(@Root() connection: ConnectionEntity, @Ctx() ctx: RequestContext): Promise<RecordEntity> {
    return (await ctx.loaders.records.load(connection.targetId))!;
  }

  @FieldResolver(() => RecordType, { nullable: true, description: 'Where the connection happened ("reports to X at Organization Y"), a record of the type\'s `contextModule`; null when none, or when it is in the trash.' })
  async contextRecord(@Root() connection: ConnectionEntity, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    if (!connection.contextRecordId) return null;
    const record = await ctx.loaders.records.load(connection.contextRecordId);
    return record && !record.deletedAt ? record : null;
  }

  @FieldResolver(() => ConnectionStatus, { description: 'ACTIVE, or INACTIVE once the end date has passed; computed when read.' })
  status(@Root() connection: ConnectionEntity): ConnectionStatus {
    return statusOf(connection);
  }

  @FieldResolver(() => ConnectionHistoryPage, { description: 'Every create, change and end of this connection, oldest first.' })
  async history(
    @Root() connection: ConnectionEntity,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() ctx: RequestContext,
  ): Promise<ConnectionHistoryPage> {
    // batched: a page of connections asking for their history is one statement (and one more for their counts); the
    // cursor is decoded here, so a bad one fails its own field, not every field of the batch
    const rows = await ctx.loaders.connectionHistory.load({ connectionId: connection.id, first, afterId: decodeHistoryCursor(after) });
    return makePage(ConnectionHistoryPage, { rows, first, cursorOf: (r) => r.cursor, count: () => ctx.loaders.connectionHistoryCounts.load(connection.id) });
  }

  @FieldResolver(() => UserType)
  async createdBy(@Root() connection: ConnectionEntity, @Ctx() ctx: RequestContext): Promise<UserEntity> {
    return (await ctx.loaders.users.load(connection.createdById))!;
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => ConnectionPayload)
  createConnection(
    @Arg('input', () => CreateConnectionInput) input: CreateConnectionInput,
    @Ctx() ctx: RequestContext,
    @Arg('idempotencyKey', () => String, IDEMPOTENCY_KEY_ARGUMENT) idempotencyKey?: string | null,
  ): Promise<ConnectionPayload> {
    return this.idempotency.payload(ctx, { operation: 'createConnection', key: idempotencyKey, input }, 'connection',
      () => this.connectionService.create(ctx, input), (id) => this.connectionService.get(id));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => CreateConnectionsPayload, { description: 'Creates up to 100 connections: valid items are saved, invalid ones reported per item.' })
  async createConnections(
    @Arg('inputs', () => [CreateConnectionInput]) inputs: CreateConnectionInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<CreateConnectionsPayload> {
    const payload = await toPayload('results', () => this.connectionService.createMany(ctx, inputs));
    const results = payload.results ?? [];
    const createdCount = results.filter((r) => r.connection).length;
    return { createdCount, failedCount: results.length - createdCount, results, userErrors: payload.userErrors };
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => ConnectionPayload)
  updateConnection(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateConnectionInput) input: UpdateConnectionInput,
    @Ctx() ctx: RequestContext,
  ): Promise<ConnectionPayload> {
    return toPayload('connection', () => this.connectionService.update(ctx, id, input));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => ConnectionPayload, { description: 'Deletes a connection for good; the answer shows what was deleted.' })
  deleteConnection(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<ConnectionPayload> {
    return toPayload('connection', () => this.connectionService.delete(ctx, id));
  }
}

@Resolver(() => ConnectionHistoryEntryType)
export class ConnectionHistoryEntryResolver {
  @FieldResolver(() => UserType, { nullable: true, description: 'Who made the change; null when no user was named (a record hard-deleted with its connections, a script).' })
  async actor(@Root() entry: ConnectionHistoryRow, @Ctx() ctx: RequestContext): Promise<UserEntity | null> {
    return entry.actorId ? ctx.loaders.users.load(entry.actorId) : null;
  }
}
