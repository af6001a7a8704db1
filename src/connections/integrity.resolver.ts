import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../core/context';
import { ADMIN_ROLES } from '../auth/roles';
import { toPayload } from '../core/errors';
import { makePage, PageArgs } from '../core/pagination';
import type { RecordEntity } from '../records/record.entity';
import { RecordType } from '../records/record.types';
import type { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionTypeType } from './connection-type.types';
import type { IntegrityService } from './integrity.service';
import {
  ConnectionIntegrityFindingPage, ConnectionIntegrityFindingType, IntegrityIssueKind, RepairActionInput, RepairConnectionsPayload,
  type IntegrityFinding,
} from './integrity.types';

@Resolver(() => ConnectionIntegrityFindingType)
export class IntegrityResolver {
  constructor(private readonly integrityService: IntegrityService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => ConnectionIntegrityFindingPage, {
    description: 'Connections whose records are gone, whose modules or properties no longer fit their type, forbidden self-links, duplicates and stale statuses, each with the repairs it accepts.',
  })
  async connectionIntegrityReport(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('kinds', () => [IntegrityIssueKind], { nullable: true, description: 'Only these kinds of findings.' }) kinds?: IntegrityIssueKind[] | null,
  ): Promise<ConnectionIntegrityFindingPage> {
    return makePage(ConnectionIntegrityFindingPage, await this.integrityService.report(kinds, first, after));
  }

  @FieldResolver(() => ConnectionTypeType)
  async type(@Root() finding: IntegrityFinding, @Ctx() ctx: RequestContext): Promise<ConnectionTypeEntity> {
    return (await ctx.loaders.connectionTypes.load(finding.typeId))!;
  }

  @FieldResolver(() => RecordType, { nullable: true, description: 'Null when the record no longer exists.' })
  source(@Root() finding: IntegrityFinding, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    return ctx.loaders.records.load(finding.sourceId);
  }

  @FieldResolver(() => RecordType, { nullable: true, description: 'Null when the record no longer exists.' })
  target(@Root() finding: IntegrityFinding, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    return ctx.loaders.records.load(finding.targetId);
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => RepairConnectionsPayload, { description: 'Repairs findings of the integrity report (DELETE, END or IGNORE each); with `dryRun` only says what it would do.' })
  async repairConnections(
    @Arg('actions', () => [RepairActionInput]) actions: RepairActionInput[],
    @Arg('dryRun', () => Boolean, { defaultValue: false }) dryRun: boolean,
    @Ctx() ctx: RequestContext,
  ): Promise<RepairConnectionsPayload> {
    const payload = await toPayload('results', () => this.integrityService.repair(actions, dryRun, ctx.user.id));
    const results = payload.results ?? [];
    return { dryRun, appliedCount: results.filter((r) => r.applied).length, results, userErrors: payload.userErrors };
  }
}
