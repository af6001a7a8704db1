import { Arg, Authorized, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ADMIN_ROLES } from '../auth/roles';
import { toPayload } from '../common/errors';
import type { OtpRuleEntity } from './otp-rule.entity';
import type { OtpRuleService } from './otp-rule.service';
import { DeleteOtpRulePayload, OtpRuleInput, OtpRulePayload, OtpRuleType } from './otp-rule.types';
import { acceptedKeys, sanitizedRuleKey } from './rule-keys';

@Resolver(() => OtpRuleType)
export class OtpRuleResolver {
  constructor(private readonly ruleService: OtpRuleService) {}

  @Authorized(ADMIN_ROLES)
  @Query(() => [OtpRuleType], { description: 'OTP rules (admins), optionally of one module and by state.' })
  otpRules(
    @Arg('module', () => String, { nullable: true }) module?: string | null,
    @Arg('active', () => Boolean, { nullable: true }) active?: boolean | null,
  ): Promise<OtpRuleEntity[]> {
    return this.ruleService.list(module, active);
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
}
