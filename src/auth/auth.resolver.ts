import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../core/context';
import { makePage, PageArgs } from '../core/pagination';
import { toPayload } from '../core/errors';
import { ADMIN_ROLES } from './roles';
import {
  ApiKeyFilterInput, ApiKeyPage, ApiKeyPayload, ApiKeyType, CreateApiKeyInput, CreateApiKeyPayload, CreateUserInput, UpdateUserInput, UserFilterInput,
  UserPage, UserPayload, UserType,
} from './auth.types';
import type { ApiKeyService } from './api-key.service';
import type { UserService } from './user.service';
import type { ApiKeyEntity } from './api-key.entity';
import type { UserEntity } from './user.entity';

@Resolver(() => UserType)
export class UserResolver {
  constructor(private readonly userService: UserService) {}

  @Query(() => UserType, { description: 'The user the request acts as.' })
  me(@Ctx() ctx: RequestContext): UserEntity {
    return ctx.user;
  }

  @Authorized(ADMIN_ROLES)
  @FieldResolver(() => [ApiKeyType], { description: "The user's API keys (admins only)." })
  async apiKeys(@Root() user: UserEntity, @Ctx() ctx: RequestContext): Promise<ApiKeyEntity[]> {
    return ctx.loaders.apiKeysByUser.load(user.id);
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => UserPage, { description: 'Users by email (admins).' })
  async users(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => UserFilterInput, { nullable: true }) filter?: UserFilterInput | null,
  ): Promise<UserPage> {
    return makePage(UserPage, await this.userService.page(filter ?? {}, first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => UserPayload)
  createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput): Promise<UserPayload> {
    return toPayload('user', () => this.userService.create(input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => UserPayload)
  updateUser(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateUserInput) input: UpdateUserInput): Promise<UserPayload> {
    return toPayload('user', () => this.userService.update(id, input));
  }
}

@Resolver(() => ApiKeyType)
export class ApiKeyResolver {
  constructor(private readonly apiKeyService: ApiKeyService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => ApiKeyPage, { description: 'API keys, newest first, of every user or one (never the keys themselves).' })
  async apiKeys(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => ApiKeyFilterInput, { nullable: true }) filter?: ApiKeyFilterInput | null,
  ): Promise<ApiKeyPage> {
    return makePage(ApiKeyPage, await this.apiKeyService.page(filter ?? {}, first, after));
  }

  @FieldResolver(() => UserType)
  async user(@Root() apiKey: ApiKeyEntity, @Ctx() ctx: RequestContext): Promise<UserEntity> {
    return (await ctx.loaders.users.load(apiKey.userId))!;
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => CreateApiKeyPayload, { description: 'Creates an API key; the answer is the only time the key is shown.' })
  async createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput): Promise<CreateApiKeyPayload> {
    const payload = await toPayload('created', () => this.apiKeyService.create(input));
    return { apiKey: payload.created?.apiKey ?? null, key: payload.created?.key ?? null, userErrors: payload.userErrors };
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => ApiKeyPayload)
  revokeApiKey(@Arg('id', () => ID) id: string): Promise<ApiKeyPayload> {
    return toPayload('apiKey', () => this.apiKeyService.revoke(id));
  }
}
