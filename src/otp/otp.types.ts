import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { OtpChannel, OtpCodeType, OtpRequestEntity } from './otp-request.entity';

export enum OtpChannelEnum { SMS = 'SMS', WHATSAPP = 'WHATSAPP', EMAIL = 'EMAIL' }
registerEnumType(OtpChannelEnum, { name: 'OtpChannel' });

export enum OtpCodeTypeEnum { NUMERIC = 'NUMERIC', ALPHABETIC = 'ALPHABETIC', ALPHANUMERIC = 'ALPHANUMERIC' }
registerEnumType(OtpCodeTypeEnum, { name: 'OtpCodeType' });

export enum OtpStatusEnum {
  PENDING = 'PENDING', VERIFIED = 'VERIFIED', EXPIRED = 'EXPIRED', CANCELED = 'CANCELED', MAX_ATTEMPTS_REACHED = 'MAX_ATTEMPTS_REACHED',
}
registerEnumType(OtpStatusEnum, { name: 'OtpStatus' });

export enum OtpCancelReasonEnum { SUPERSEDED = 'SUPERSEDED', CANCELED_BY_USER = 'CANCELED_BY_USER' }
registerEnumType(OtpCancelReasonEnum, {
  name: 'OtpCancelReason',
  description: 'Why an OTP request is CANCELED.',
  valuesConfig: {
    SUPERSEDED: { description: 'A newer send for the same purpose (recipient + source + sender, or rule + record) replaced it.' },
    CANCELED_BY_USER: { description: 'cancelOtp was called.' },
  },
});

export enum DeliveryStatusEnum {
  SCHEDULED = 'SCHEDULED', QUEUED = 'QUEUED', SENDING = 'SENDING', SENT = 'SENT', DELIVERED = 'DELIVERED', FAILED = 'FAILED', SKIPPED = 'SKIPPED',
}
registerEnumType(DeliveryStatusEnum, {
  name: 'OtpDeliveryStatus',
  valuesConfig: {
    SCHEDULED: { description: 'A later step of a workflow (channel fallback), due at scheduledAt; sent then only if the OTP is still pending.' },
    SENDING: { description: 'The provider is being called (never repeated: a call cut by a crash ends FAILED).' },
    SKIPPED: { description: 'A workflow step that was never sent: the OTP was verified, canceled, superseded, expired or locked before it was due, or a resend sent this channel first.' },
  },
});

export enum DeliveryErrorCategoryEnum {
  PROVIDER_UNREACHABLE = 'PROVIDER_UNREACHABLE', PROVIDER_REJECTED = 'PROVIDER_REJECTED', TIMEOUT = 'TIMEOUT', UNDELIVERED = 'UNDELIVERED',
  INTERRUPTED = 'INTERRUPTED', REQUEST_CLOSED = 'REQUEST_CLOSED', TEMPLATE_ERROR = 'TEMPLATE_ERROR', INTERNAL = 'INTERNAL',
}
registerEnumType(DeliveryErrorCategoryEnum, {
  name: 'DeliveryErrorCategory',
  description: 'Why the last delivery attempt failed. The full reason is in the server log, for operators.',
  valuesConfig: {
    PROVIDER_UNREACHABLE: { description: 'The provider could not be reached (connection refused, DNS, network).' },
    PROVIDER_REJECTED: { description: 'The provider answered with an error (refused credentials, recipient or message, or failed on its side).' },
    TIMEOUT: { description: 'The provider did not answer within OTP_PROVIDER_TIMEOUT_MS.' },
    UNDELIVERED: { description: 'The provider took the message, then reported (by webhook) that it could not be delivered.' },
    INTERRUPTED: { description: 'The server stopped during the provider call; the message was not sent again.' },
    REQUEST_CLOSED: { description: 'The OTP was verified, canceled or expired before its message was due.' },
    TEMPLATE_ERROR: { description: 'The message template is missing or could not be rendered.' },
    INTERNAL: { description: 'Any other failure on the server side.' },
  },
});

@ObjectType('OtpDelivery', { simpleResolvers: true, description: 'One message of an OTP on one channel.' })
export class OtpDeliveryType {
  @Field(() => ID) id: string;
  @Field(() => OtpChannelEnum) channel: OtpChannel;
  @Field(() => DeliveryStatusEnum) status: DeliveryStatusEnum;
  @Field(() => String, { description: 'log, smtp, twilio or meta.' }) provider: string;
  @Field(() => String, { nullable: true }) providerMessageId: string | null;
  @Field(() => String, { nullable: true, description: 'Why the last attempt failed, in general words (one fixed message per errorCategory).' }) error: string | null;
  @Field(() => DeliveryErrorCategoryEnum, { nullable: true, description: 'Why the last attempt failed; null when none failed.' }) errorCategory: DeliveryErrorCategoryEnum | null;
  @Field(() => Int, { description: 'Provider calls made so far.' }) attempts: number;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) sentAt: Date | null;
  @Field(() => Date, { nullable: true }) deliveredAt: Date | null;
  @Field(() => Date, { nullable: true }) failedAt: Date | null;
  @Field(() => Int, { nullable: true, description: 'Its step in the send\'s workflow (0: sent at once); null for a send without a workflow.' }) workflowStep: number | null;
  @Field(() => Date, { nullable: true, description: 'A later workflow step: when it is due.' }) scheduledAt: Date | null;
}

@InputType({ description: 'One step of a channel-fallback workflow.' })
export class OtpWorkflowStepInput {
  @Field(() => OtpChannelEnum) channel: OtpChannel;
  @Field(() => Int, { nullable: true, description: 'Seconds after the step before it (1-600); the first step has none (it is sent at once).' }) waitSeconds?: number | null;
}

@ObjectType('OtpRequest', { simpleResolvers: true, description: 'A one-time passcode sent to someone. The code itself is never readable.' })
export class OtpRequestType {
  @Field(() => ID) id: string;
  @Field(() => [OtpChannelEnum]) channels: OtpChannel[];
  @Field(() => String) source: string;
  @Field(() => String) type: string;
  @Field(() => Int) codeLength: number;
  @Field(() => OtpCodeTypeEnum) codeType: OtpCodeType;
  @Field(() => Boolean, { description: 'True when the caller supplied the code (`otpCode`).' }) codeCallerSupplied: boolean;
  @Field(() => Boolean, { description: 'True for OTP_TEST_RECIPIENTS: fixed code, nothing delivered.' }) testRecipient: boolean;
  @Field(() => OtpStatusEnum) status: OtpStatusEnum;
  @Field(() => OtpCancelReasonEnum, { nullable: true, description: 'Set when status is CANCELED.' }) cancelReason: OtpCancelReasonEnum | null;
  @Field(() => Date) expiresAt: Date;
  @Field(() => Int, { description: 'Wrong codes tried so far.' }) attempts: number;
  @Field(() => Int) maxAttempts: number;
  @Field(() => Int, { description: '1 for the first send, plus one per resend.' }) sendCount: number;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) verifiedAt: Date | null;
  // maskedMobileNo, maskedEmail, deliveries and record: field resolvers in OtpResolver
}

@ObjectType()
export class OtpRequestPage extends PageOf<OtpRequestEntity>(OtpRequestType, 'OtpRequest') {}

@InputType({ description: 'The partner send-otp contract in camelCase (REST takes the same fields in snake_case).' })
export class SendOtpInput {
  @Field(() => String, { nullable: true, description: '8-10 digits; required for SMS and WhatsApp.' }) mobileNo?: string | null;
  @Field(() => String, { nullable: true, description: '1-3 digits; default DEFAULT_COUNTRY_CODE.' }) countryCode?: string | null;
  @Field(() => String, { nullable: true, description: 'Required for EMAIL.' }) email?: string | null;
  @Field(() => String, { nullable: true, description: 'Required for EMAIL.' }) emailFromName?: string | null;
  @Field(() => String, { nullable: true, description: 'Required for EMAIL; may use {{variables}}.' }) emailSubject?: string | null;
  @Field(() => String, { nullable: true, description: 'Required for EMAIL: a MessageTemplate id, e.g. otp_email.' }) emailTemplateId?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Strings for the template\'s {{variables}} ({{otp}} and {{expiresInMinutes}} are injected).' })
  emailTemplateAttributes?: Record<string, unknown> | null;
  @Field(() => [OtpChannelEnum], { nullable: true, description: 'The channels to send on at once. Give channels or workflow, not both.' }) channels?: OtpChannel[] | null;
  @Field(() => [OtpWorkflowStepInput], {
    nullable: true,
    description: 'Channel fallback, instead of channels: up to 3 steps on distinct channels. The first is sent at once; each later one waitSeconds '
      + 'after the one before it, with the same code, only while the OTP is still pending (not verified, canceled, superseded, expired or locked). '
      + 'The waits must add up to less than the OTP\'s validity.',
  }) workflow?: OtpWorkflowStepInput[] | null;
  @Field(() => String, { description: '1-64 letters, digits, _ - . (e.g. user_signup).' }) source: string;
  @Field(() => String, { description: 'Only simple_otp for now.' }) type: string;
  @Field(() => Int, { nullable: true, description: '4-10, default 6.' }) otpCodeLength?: number | null;
  @Field(() => OtpCodeTypeEnum, { nullable: true, description: 'Default NUMERIC.' }) otpCodeType?: OtpCodeType | null;
  @Field(() => String, { nullable: true, description: 'Your own code (4-10 letters/digits); length and type are then ignored.' }) otpCode?: string | null;
  @Field(() => Int, { nullable: true, description: 'A reference to an existing OTP rule, kept on the request. Such an OTP never satisfies the rule (use sendRuleOtp).' }) ruleId?: number | null;
  @Field(() => ID, { nullable: true, description: 'Binds the OTP to a record.' }) recordId?: string | null;
}

@InputType({ description: 'Either otpRequestId, or a recipient (mobileNo or email) with the source it was sent for; and the code.' })
export class VerifyOtpInput {
  @Field(() => ID, { nullable: true }) otpRequestId?: string | null;
  @Field(() => String, { nullable: true }) mobileNo?: string | null;
  @Field(() => String, { nullable: true }) countryCode?: string | null;
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => String, { nullable: true }) source?: string | null;
  @Field(() => String) code: string;
}

@InputType()
export class OtpRequestFilterInput {
  @Field(() => OtpStatusEnum, { nullable: true }) status?: OtpStatusEnum | null;
  @Field(() => String, { nullable: true }) source?: string | null;
  @Field(() => ID, { nullable: true, description: 'Only OTPs bound to this record.' }) recordId?: string | null;
}

@ObjectType()
export class SendOtpPayload {
  @Field(() => OtpRequestType, { nullable: true }) otpRequest: OtpRequestEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class VerifyOtpPayload {
  @Field(() => Boolean) verified: boolean;
  @Field(() => OtpRequestType, { nullable: true, description: 'Set when verified.' }) otpRequest: OtpRequestEntity | null;
  @Field(() => Int, { nullable: true, description: 'After a wrong code: how many more may be tried.' }) attemptsLeft: number | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class OtpRequestPayload {
  @Field(() => OtpRequestType, { nullable: true }) otpRequest: OtpRequestEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}
