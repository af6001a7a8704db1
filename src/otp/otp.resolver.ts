import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../core/context';
import { toPayload, UserError, UserErrorException } from '../core/errors';
import { makePage, PageArgs } from '../core/pagination';
import type { RecordEntity } from '../records/record.entity';
import { RecordType } from '../records/record.types';
import type { OtpDeliveryEntity } from './otp-delivery.entity';
import type { OtpChannel, OtpRequestEntity } from './otp-request.entity';
import type { OtpService } from './otp.service';
import { IDEMPOTENCY_KEY_ARGUMENT } from '../idempotency/idempotency.argument';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import {
  OtpChannelEnum, OtpDeliveryType, OtpRequestFilterInput, OtpRequestPage, OtpRequestPayload, OtpRequestType, SendOtpInput,
  SendOtpPayload, VerifyOtpInput, VerifyOtpPayload,
} from './otp.types';
import { maskEmail, maskMobile } from './recipients';

/** The GraphQL door; the role check (READONLY may not use OTPs) is the service's, shared with the REST door. */
@Resolver(() => OtpRequestType)
export class OtpResolver {
  constructor(private readonly otpService: OtpService, private readonly idempotency: IdempotencyService) {}

  @Query(() => OtpRequestType, { nullable: true, description: 'An OTP request you sent (admins: any).' })
  otpRequest(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<OtpRequestEntity | null> {
    return this.otpService.get(ctx, id);
  }

  @Query(() => OtpRequestPage, { description: 'OTP requests you sent (admins: all), newest first.' })
  async otpRequests(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() ctx: RequestContext,
    @Arg('filter', () => OtpRequestFilterInput, { nullable: true }) filter?: OtpRequestFilterInput | null,
  ): Promise<OtpRequestPage> {
    return makePage(OtpRequestPage, await this.otpService.page(ctx, filter ?? {}, first, after));
  }

  @Mutation(() => SendOtpPayload, { description: 'Sends an OTP on one or more channels; delivery happens in the background.' })
  sendOtp(
    @Arg('input', () => SendOtpInput) input: SendOtpInput,
    @Ctx() ctx: RequestContext,
    @Arg('idempotencyKey', () => String, IDEMPOTENCY_KEY_ARGUMENT) idempotencyKey?: string | null,
  ): Promise<SendOtpPayload> {
    return this.idempotency.payload(ctx, { operation: 'sendOtp', key: idempotencyKey, input }, 'otpRequest',
      () => this.otpService.send(ctx, input), (id) => this.otpService.get(ctx, id));
  }

  @Mutation(() => VerifyOtpPayload, { description: 'Checks a code. Each wrong code counts as one attempt.' })
  async verifyOtp(@Arg('input', () => VerifyOtpInput) input: VerifyOtpInput, @Ctx() ctx: RequestContext): Promise<VerifyOtpPayload> {
    try {
      const result = await this.otpService.verify(ctx, input);
      const userErrors = result.verified ? [] : [new UserError(result.reason!, result.message, ['input', 'code'])];
      return { verified: result.verified, otpRequest: result.otpRequest, attemptsLeft: result.attemptsLeft, userErrors };
    } catch (error) {
      if (error instanceof UserErrorException) return { verified: false, otpRequest: null, attemptsLeft: null, userErrors: error.userErrors };
      throw error;
    }
  }

  @Mutation(() => OtpRequestPayload, { description: 'Sends a pending OTP again (all its channels, or the ones given), after the cooldown.' })
  resendOtp(
    @Arg('otpRequestId', () => ID) otpRequestId: string,
    @Ctx() ctx: RequestContext,
    @Arg('channels', () => [OtpChannelEnum], { nullable: true }) channels?: OtpChannel[] | null,
  ): Promise<OtpRequestPayload> {
    return toPayload('otpRequest', () => this.otpService.resend(ctx, otpRequestId, channels));
  }

  @Mutation(() => OtpRequestPayload, { description: 'Cancels a pending OTP: its code stops working.' })
  cancelOtp(@Arg('otpRequestId', () => ID) otpRequestId: string, @Ctx() ctx: RequestContext): Promise<OtpRequestPayload> {
    return toPayload('otpRequest', () => this.otpService.cancel(ctx, otpRequestId));
  }

  @FieldResolver(() => String, { nullable: true, description: 'The mobile number, masked: ******1637.' })
  maskedMobileNo(@Root() request: OtpRequestEntity): string | null {
    return maskMobile(request.mobile);
  }

  @FieldResolver(() => String, { nullable: true, description: 'The email address, masked: u***@example.com.' })
  maskedEmail(@Root() request: OtpRequestEntity): string | null {
    return maskEmail(request.email);
  }

  @FieldResolver(() => [OtpDeliveryType], { description: 'One per channel and send, oldest first.' })
  async deliveries(@Root() request: OtpRequestEntity, @Ctx() ctx: RequestContext): Promise<OtpDeliveryEntity[]> {
    return this.otpService.deliveries(ctx, request);
  }

  @FieldResolver(() => RecordType, { nullable: true, description: 'The record this OTP is bound to, if any.' })
  async record(@Root() request: OtpRequestEntity, @Ctx() ctx: RequestContext): Promise<RecordEntity | null> {
    if (!request.recordId) return null;
    const record = await ctx.loaders.records.load(request.recordId);
    return record && !record.deletedAt ? record : null;
  }
}
