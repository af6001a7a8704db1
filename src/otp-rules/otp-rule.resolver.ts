import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { makePage, PageArgs } from '../core/pagination';
import type { RequestContext } from '../core/context';
import { WRITER_ROLES } from '../auth/roles';
import { OtpRequestType } from '../otp/otp.types';
import type { OtpRequestEntity } from '../otp/otp-request.entity';
import { ADMIN_ROLES } from '../auth/roles';
import { toPayload } from '../core/errors';
import type { OtpRuleEntity } from './otp-rule.entity';
import type { OtpRuleService } from './otp-rule.service';
import { IDEMPOTENCY_KEY_ARGUMENT } from '../idempotency/idempotency.argument';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import type { OtpService } from '../otp/otp.service';
import {
  DeleteOtpRulePayload, OtpRuleFilterInput, OtpRuleInput, OtpRulePage, OtpRulePayload, OtpRuleRefType, OtpRuleType, SendRuleOtpBulkPayload,
  SendRuleOtpPayload,
} from './otp-rule.types';
import { acceptedKeys, sanitizedRuleKey } from './rule-keys';

@Resolver(() => OtpRuleType)
export class OtpRuleResolver {
  constructor(private readonly ruleService: OtpRuleService, private readonly idempotency: IdempotencyService, private readonly otp: OtpService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => OtpRulePage, { description: 'OTP rules by id (admins), optionally of one module and by state.' })
  async otpRules(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => OtpRuleFilterInput, { nullable: true }) filter?: OtpRuleFilterInput | null,
  ): Promise<OtpRulePage> {
    return makePage(OtpRulePage, await this.ruleService.page(filter ?? {}, first, after));
  }

  @Authorized(ADMIN_ROLES)
  @Query(() => OtpRuleType, { nullable: true })
  otpRule(@Arg('id', () => Int) id: number): Promise<OtpRuleEntity | null> {
    return this.ruleService.get(id);
  }

  @FieldResolver(() => String)
  sanitizedName(@Root() rule: OtpRuleEntity): string {
    return sanitizedRuleKey(rule.name);
  }

  @FieldResolver(() => [String])
  acceptedKeys(@Root() rule: OtpRuleEntity): string[] {
    return acceptedKeys(rule);
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => OtpRulePayload)
  createOtpRule(@Arg('input', () => OtpRuleInput, { validate: false }) input: OtpRuleInput): Promise<OtpRulePayload> {
    return toPayload('otpRule', () => this.ruleService.create(input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => OtpRulePayload)
  updateOtpRule(@Arg('id', () => Int) id: number, @Arg('input', () => OtpRuleInput, { validate: false }) input: OtpRuleInput): Promise<OtpRulePayload> {
    return toPayload('otpRule', () => this.ruleService.update(id, input));
  }

  @Authorized(ADMIN_ROLES)
  @Mutation(() => DeleteOtpRulePayload)
  deleteOtpRule(@Arg('id', () => Int) id: number): Promise<DeleteOtpRulePayload> {
    return toPayload('deletedId', () => this.ruleService.delete(id));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => SendRuleOtpPayload, { description: "The \"Send OTP\" action: sends the rule's OTP for a record, to the record's recipient field or the acting user." })
  sendRuleOtp(
    @Arg('ruleId', () => Int) ruleId: number,
    @Arg('recordId', () => ID) recordId: string,
    @Ctx() ctx: RequestContext,
    @Arg('intendedFields', () => GraphQLJSONObject, { nullable: true, validate: false, description: 'The change the OTP is for (as updateRecord fields): the OTP then only authorizes a save reaching the same values of the rule\'s condition fields.' }) intendedFields?: Record<string, unknown> | null,
    @Arg('idempotencyKey', () => String, IDEMPOTENCY_KEY_ARGUMENT) idempotencyKey?: string | null,
  ): Promise<SendRuleOtpPayload> {
    return this.idempotency.payload(ctx, { operation: 'sendRuleOtp', key: idempotencyKey, input: { ruleId, recordId, intendedFields } }, 'otpRequest',
      () => this.ruleService.sendOtp(ctx, ruleId, recordId, intendedFields), (id) => this.otp.get(ctx, id));
  }

  @Authorized(WRITER_ROLES)
  @Mutation(() => SendRuleOtpBulkPayload, { description: 'sendRuleOtp for up to 20 records; each is sent or refused on its own.' })
  async sendRuleOtpBulk(@Arg('ruleId', () => Int) ruleId: number, @Arg('recordIds', () => [ID]) recordIds: string[], @Ctx() ctx: RequestContext): Promise<SendRuleOtpBulkPayload> {
    const payload = await toPayload('results', () => this.ruleService.sendOtpBulk(ctx, ruleId, recordIds));
    const results = payload.results ?? [];
    return { sentCount: results.filter((r) => r.otpRequest).length, results, userErrors: payload.userErrors };
  }
}

/**
 * `OtpRequest.rule`: the rule an OTP was sent for (the OTP feature itself knows nothing of rules), as an `OtpRuleRef`:
 * whoever may see the request (its sender) learns the rule's id and name, never its conditions, profiles or recipient.
 */
@Resolver(() => OtpRequestType)
export class OtpRequestRuleResolver {
  @FieldResolver(() => OtpRuleRefType, { nullable: true, description: 'The rule the OTP was sent for (id and name).' })
  rule(@Root() request: OtpRequestEntity, @Ctx() ctx: RequestContext): Promise<OtpRuleEntity | null> | null {
    return request.ruleId == null ? null : ctx.loaders.otpRules.load(request.ruleId);
  }
}
