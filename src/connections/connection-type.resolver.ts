import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { makePage, PageArgs } from '../core/pagination';
import type { RequestContext } from '../core/context';
import { ADMIN_ROLES } from '../auth/roles';
import { toPayload, UserErrorException } from '../core/errors';
import type { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionsInTheWay, type ConnectionTypeService, type TypeChangeResult } from './connection-type.service';
import {
  ConnectionPolicy, ConnectionTypeFilterInput, ConnectionTypePage, ConnectionTypePayload, ConnectionTypeType, CreateConnectionTypeInput,
  UpdateConnectionTypeInput,
} from './connection-type.types';

@Resolver(() => ConnectionTypeType)
export class ConnectionTypeResolver {
  constructor(private readonly connectionTypeService: ConnectionTypeService) {}

  @Query(() => ConnectionTypePage, { description: 'Connection types (active ones unless the filter says otherwise): system types first, then by name.' })
  async connectionTypes(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => ConnectionTypeFilterInput, { nullable: true }) filter?: ConnectionTypeFilterInput | null,
  ): Promise<ConnectionTypePage> {
    return makePage(ConnectionTypePage, await this.connectionTypeService.page(filter ?? {}, first, after));
  }

  @Query(() => ConnectionTypeType, { nullable: true })
  connectionType(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<ConnectionTypeEntity | null> {
    return ctx.loaders.connectionTypes.load(id);
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => ConnectionTypePayload)
  async createConnectionType(@Arg('input', () => CreateConnectionTypeInput) input: CreateConnectionTypeInput): Promise<ConnectionTypePayload> {
    const payload = await toPayload('connectionType', () => this.connectionTypeService.create(input));
    return { ...payload, affectedConnectionIds: [] };
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => ConnectionTypePayload, { description: 'Changes a type; `policy` says what happens to connections the change would leave not fitting.' })
  updateConnectionType(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateConnectionTypeInput) input: UpdateConnectionTypeInput,
    @Arg('policy', () => ConnectionPolicy, { defaultValue: ConnectionPolicy.RESTRICT }) policy: ConnectionPolicy,
    @Ctx() ctx: RequestContext,
  ): Promise<ConnectionTypePayload> {
    return typeChangePayload(() => this.connectionTypeService.update(id, input, policy, ctx.user.id));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => ConnectionTypePayload, { description: 'Deletes a type no connection uses (with policy DELETE, its connections too). System types cannot be deleted.' })
  deleteConnectionType(
    @Arg('id', () => ID) id: string,
    @Arg('policy', () => ConnectionPolicy, { defaultValue: ConnectionPolicy.RESTRICT }) policy: ConnectionPolicy,
    @Ctx() ctx: RequestContext,
  ): Promise<ConnectionTypePayload> {
    return typeChangePayload(() => this.connectionTypeService.delete(id, policy, ctx.user.id));
  }
}

async function typeChangePayload(work: () => Promise<TypeChangeResult>): Promise<ConnectionTypePayload> {
  try {
    const { connectionType, affectedConnectionIds } = await work();
    return { connectionType, affectedConnectionIds, userErrors: [] };
  } catch (error) {
    if (error instanceof ConnectionsInTheWay) return { connectionType: null, affectedConnectionIds: error.connectionIds, userErrors: error.userErrors };
    if (error instanceof UserErrorException) return { connectionType: null, affectedConnectionIds: [], userErrors: error.userErrors };
    throw error;
  }
}
