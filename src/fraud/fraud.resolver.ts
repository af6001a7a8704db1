import { Arg, Args, Authorized, Ctx, FieldResolver, Float, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { UserType } from '../auth/auth.types';
import type { UserEntity } from '../auth/user.entity';
import { ADMIN_ROLES } from '../auth/roles';
import type { RequestContext } from '../core/context';
import { toPayload } from '../core/errors';
import { makePage, PageArgs } from '../core/pagination';
import type { FraudEventEntity, FraudPrefixBlockEntity } from './fraud.entity';
import type { SummaryRow } from './fraud.repository';
import type { FraudAdminService } from './fraud-admin.service';
import {
  BlockedSendPage, BlockedSendType, BlockReasonEnum, ConversionSummaryPage, ConversionSummaryRowType, GeoActionEnum, GeoPermissionPage, GeoPermissionPayload,
  PrefixBlockPage, PrefixBlockPayload, PrefixBlockType, SafeListEntryInput, SafeListEntryPage, SafeListEntryPayload,
} from './fraud.types';

/** The fraud guard's admin operations (admins only); the rules are the service's. */
@Resolver()
export class FraudResolver {
  constructor(private readonly fraud: FraudAdminService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => BlockedSendPage, { description: 'Sends the fraud guard refused, newest first (default: the last 24 hours).' })
  async blockedSends(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('from', () => Date, { nullable: true }) from?: Date | null,
    @Arg('to', () => Date, { nullable: true }) to?: Date | null,
    @Arg('reason', () => BlockReasonEnum, { nullable: true }) reason?: BlockReasonEnum | null,
  ): Promise<BlockedSendPage> {
    return makePage(BlockedSendPage, await this.fraud.blockedSends({ from: from ?? undefined, to: to ?? undefined }, reason ?? null, first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => PrefixBlockPage, { description: 'Number prefixes blocked automatically, newest first (default: only those in force).' })
  async prefixBlocks(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('activeOnly', () => Boolean, { defaultValue: true }) activeOnly: boolean,
  ): Promise<PrefixBlockPage> {
    return makePage(PrefixBlockPage, await this.fraud.prefixBlocks(activeOnly, first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => PrefixBlockPayload, { description: 'Lifts the block on a prefix now; its counters start afresh.' })
  unblockPrefix(@Arg('prefix', () => String) prefix: string, @Ctx() ctx: RequestContext): Promise<PrefixBlockPayload> {
    return toPayload('prefixBlock', () => this.fraud.unblockPrefix(ctx, prefix));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => GeoPermissionPage, { description: 'Per-country permissions in force (environment and admin), by country; * is the default.' })
  async geoPermissions(@Args(() => PageArgs) { first, after }: PageArgs): Promise<GeoPermissionPage> {
    return makePage(GeoPermissionPage, await this.fraud.geoPermissions(first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => GeoPermissionPayload, { description: 'Sets a country\'s permission (country * sets the default) on every instance.' })
  setGeoPermission(
    @Arg('country', () => String) country: string,
    @Arg('action', () => GeoActionEnum) action: GeoActionEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<GeoPermissionPayload> {
    return toPayload('geoPermission', () => this.fraud.setGeoPermission(ctx, country, action));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => GeoPermissionPayload, { description: 'Removes an admin\'s permission for a country; the environment\'s applies again. Returns what is now in force.' })
  removeGeoPermission(@Arg('country', () => String) country: string, @Ctx() ctx: RequestContext): Promise<GeoPermissionPayload> {
    return toPayload('geoPermission', () => this.fraud.removeGeoPermission(ctx, country));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => SafeListEntryPage, { description: 'Numbers and prefixes that bypass the fraud guard, newest first.' })
  async safeList(@Args(() => PageArgs) { first, after }: PageArgs): Promise<SafeListEntryPage> {
    return makePage(SafeListEntryPage, await this.fraud.safeList(first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => SafeListEntryPayload)
  addSafeListEntry(@Arg('input', () => SafeListEntryInput) input: SafeListEntryInput, @Ctx() ctx: RequestContext): Promise<SafeListEntryPayload> {
    return toPayload('safeListEntry', () => this.fraud.addSafeListEntry(ctx, input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => SafeListEntryPayload)
  removeSafeListEntry(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<SafeListEntryPayload> {
    return toPayload('safeListEntry', () => this.fraud.removeSafeListEntry(ctx, id));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => ConversionSummaryPage, { description: 'Sends, verifications and refusals per country, channel, source and rule in a time range (default: the last 24 hours), busiest first.' })
  async conversionSummary(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('from', () => Date, { nullable: true }) from?: Date | null,
    @Arg('to', () => Date, { nullable: true }) to?: Date | null,
  ): Promise<ConversionSummaryPage> {
    return makePage(ConversionSummaryPage, await this.fraud.conversionSummary({ from: from ?? undefined, to: to ?? undefined }, first, after));
  }
}

@Resolver(() => PrefixBlockType)
export class PrefixBlockResolver {
  @FieldResolver(() => Boolean, { description: 'In force now.' })
  active(@Root() block: FraudPrefixBlockEntity): boolean {
    return block.liftedAt === null && block.expiresAt.getTime() > Date.now();
  }
}

@Resolver(() => ConversionSummaryRowType)
export class ConversionSummaryRowResolver {
  @FieldResolver(() => Float, { nullable: true, description: 'verified ÷ sends (0–1, four decimals); null without sends.' })
  conversionRate(@Root() row: SummaryRow): number | null {
    return row.sends ? Math.round((row.verified / row.sends) * 10_000) / 10_000 : null;
  }
}

@Resolver(() => BlockedSendType)
export class BlockedSendResolver {
  @FieldResolver(() => UserType, { nullable: true, description: 'The acting user (who owns the API key, or signed the JWT).' })
  async user(@Root() send: FraudEventEntity, @Ctx() ctx: RequestContext): Promise<UserEntity | null> {
    return send.userId ? ctx.loaders.users.load(send.userId) : null;
  }
}
