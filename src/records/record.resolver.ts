import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { RequestContext } from '../core/context';
import { UserType } from '../auth/auth.types';
import { ADMIN_ROLES, WRITER_ROLES } from '../auth/roles';
import type { UserEntity } from '../auth/user.entity';
import { toPayload } from '../core/errors';
import { makePage, PageArgs } from '../core/pagination';
import { selectsPath } from '../core/selection';
import { attachLoaded } from '../core/loader';
import { findModule, MODULES, type ModuleDefinition } from './modules';
import type { RecordEntity } from './record.entity';
import type { RecordService } from './record.service';
import { IDEMPOTENCY_KEY_ARGUMENT } from '../idempotency/idempotency.argument';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import {
  FieldChoiceInput, ImportRecordsPayload, MAX_RECORD_CONNECTIONS, MergedConnectionType, MergeRecordsPayload, ModuleType,
  NewRecordConnectionInput, OtpInput, RecordFilterInput, RecordOrderInput, RecordPage, RecordPayload, RecordType,
} from './record.types';
import { ErrorCode, UserErrorException } from '../core/errors';

const MODULE_VIEWS = MODULES.map((m) => ({ ...m, fields: m.fields.map((f) => ({ ...f, mandatory: !!f.mandatory })) }));

@Resolver(() => RecordType)
export class RecordResolver {
  constructor(private readonly recordService: RecordService, private readonly idempotency: IdempotencyService) {}

  @Query(() => [ModuleType], { description: 'The CRM modules and their fields.' })
  modules(): ModuleDefinition[] {
    return MODULE_VIEWS;
  }

  @Query(() => RecordType, { nullable: true })
  async record(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    const record = await ctx.loaders.records.load(id);
    return record && !record.deletedAt ? record : null;
  }

  @Query(() => RecordPage)
  async records(
    @Arg('module', () => String) moduleName: string,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('where', () => [RecordFilterInput], { nullable: true }) where?: RecordFilterInput[] | null,
    @Arg('orderBy', () => RecordOrderInput, { nullable: true }) orderBy?: RecordOrderInput | null,
    @Arg('includeDeleted', () => Boolean, { defaultValue: false, description: 'Also list soft-deleted records.' }) includeDeleted = false,
  ): Promise<RecordPage> {
    const module = findModule(moduleName);
    if (!module) throw new GraphQLError(`There is no module "${moduleName}".`, { extensions: { code: 'BAD_USER_INPUT', argumentName: 'module' } });
    const source = await this.recordService.page(module, where ?? [], orderBy ?? new RecordOrderInput(), first, after, includeDeleted);
    source.rows.forEach((record) => ctx.loaders.records.prime(record.id, record));
    if (selectsPath(info, ['nodes', 'owner']) || selectsPath(info, ['edges', 'node', 'owner'])) {
      // the page's owners in the one users statement their `owner` fields would make, so each answers synchronously
      await attachLoaded(source.rows, (record) => record.ownerId, ctx.loaders.users, (record, owner) => { record.owner = owner; });
    }
    return makePage(RecordPage, source);
  }

  @FieldResolver(() => UserType)
  owner(@Root() record: RecordEntity, @Ctx() ctx: RequestContext): UserEntity | Promise<UserEntity> {
    return record.owner ?? ctx.loaders.users.load(record.ownerId) as Promise<UserEntity>;
  }

  @FieldResolver(() => RecordType, { nullable: true, description: 'The record this one was merged into (it is soft-deleted then); reading this id answers that record.' })
  async mergedInto(@Root() record: RecordEntity, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    return record.mergedIntoId ? ctx.loaders.records.load(record.mergedIntoId) : null;
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => RecordPayload, { description: `Creates a record, and the connections given (at most ${MAX_RECORD_CONNECTIONS}) with it: all or nothing.` })
  createRecord(
    @Arg('module', () => String) module: string,
    @Arg('fields', () => GraphQLJSONObject, { validate: false }) fields: Record<string, unknown>,
    @Ctx() ctx: RequestContext,
    @Arg('idempotencyKey', () => String, IDEMPOTENCY_KEY_ARGUMENT) idempotencyKey?: string | null,
    @Arg('connections', () => [NewRecordConnectionInput], { nullable: true }) connections?: NewRecordConnectionInput[] | null,
  ): Promise<RecordPayload> {
    // without connections the key's payload hash stays what it was before they existed
    const input = connections?.length ? { module, fields, connections } : { module, fields };
    return this.idempotency.payload(ctx, { operation: 'createRecord', key: idempotencyKey, input }, 'record', async () => {
      if ((connections?.length ?? 0) > MAX_RECORD_CONNECTIONS) {
        throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `A record is created with at most ${MAX_RECORD_CONNECTIONS} connections.`, ['connections']);
      }
      return this.recordService.create(ctx, module, fields, connections ?? []);
    }, (id) => this.recordService.findLive(id));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => MergeRecordsPayload, {
    description: 'Merges up to 10 records of one module into the survivor: fields as chosen (the rest stay the survivor\'s), the merged records soft-deleted pointing at it, their connections moved to it. Guarded by OTP rules like an update of the survivor.',
  })
  async mergeRecords(
    @Arg('survivorId', () => ID) survivorId: string,
    @Arg('mergedIds', () => [ID]) mergedIds: string[],
    @Ctx() ctx: RequestContext,
    @Arg('fieldChoices', () => [FieldChoiceInput], { nullable: true }) fieldChoices?: FieldChoiceInput[] | null,
    @Arg('otp', () => [OtpInput], { nullable: true }) otp?: OtpInput[] | null,
  ): Promise<MergeRecordsPayload> {
    const payload = await toPayload('merge', () => this.recordService.merge(ctx, survivorId, mergedIds, fieldChoices ?? [], otp ?? []));
    return {
      record: payload.merge?.record ?? null,
      mergedIds: payload.merge?.mergedIds ?? [],
      connections: (payload.merge?.connections ?? []) as MergedConnectionType[],
      userErrors: payload.userErrors,
    };
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => RecordPayload, { description: 'Changes the given fields (null clears one). Saves into a state guarded by an OTP rule need `otp`.' })
  updateRecord(
    @Arg('id', () => ID) id: string,
    @Arg('fields', () => GraphQLJSONObject, { validate: false }) fields: Record<string, unknown>,
    @Ctx() ctx: RequestContext,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'Refuse the save with CONFLICT unless the record is at this version.' }) expectedVersion?: number | null,
    @Arg('otp', () => [OtpInput], { nullable: true }) otp?: OtpInput[] | null,
  ): Promise<RecordPayload> {
    return toPayload('record', () => this.recordService.update(ctx, id, fields, expectedVersion, otp ?? []));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => RecordPayload, { description: 'Soft-deletes a record (restorable); `hard: true` (admins) removes it and its connections for good.' })
  async deleteRecord(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: RequestContext,
    @Arg('hard', () => Boolean, { defaultValue: false }) hard = false,
  ): Promise<RecordPayload> {
    if (hard && !ADMIN_ROLES.includes(ctx.user.role)) {
      throw new GraphQLError('Only admins can hard-delete records.', { extensions: { code: 'FORBIDDEN' } });
    }
    return toPayload('record', () => this.recordService.delete(id, hard));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => RecordPayload)
  restoreRecord(@Arg('id', () => ID) id: string): Promise<RecordPayload> {
    return toPayload('record', () => this.recordService.restore(id));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => ImportRecordsPayload, { description: 'Bulk load (at most 1,000 rows): valid rows are saved, invalid ones reported per row. Imports are exempt from OTP rules.' })
  async importRecords(
    @Arg('module', () => String) module: string,
    @Arg('rows', () => [GraphQLJSONObject], { validate: false }) rows: Array<Record<string, unknown>>,
    @Ctx() ctx: RequestContext,
  ): Promise<ImportRecordsPayload> {
    const payload = await toPayload('rows', () => this.recordService.import(ctx, module, rows));
    const results = payload.rows ?? [];
    const importedCount = results.filter((r) => r.record).length;
    return { importedCount, failedCount: results.length - importedCount, rows: results, userErrors: payload.userErrors };
  }
}
