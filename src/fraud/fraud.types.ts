import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsOptional, MaxLength } from 'class-validator';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { FraudEventEntity, FraudPrefixBlockEntity, FraudSafeListEntryEntity } from './fraud.entity';
import type { SummaryRow } from './fraud.repository';
import type { GeoPermission } from './fraud-settings.cache';

export enum GeoActionEnum { ALLOW = 'ALLOW', BLOCK = 'BLOCK', MONITOR = 'MONITOR' }
registerEnumType(GeoActionEnum, { name: 'GeoAction', description: 'ALLOW sends, BLOCK refuses them, MONITOR sends but flags them.' });

export enum GeoOriginEnum { ENVIRONMENT = 'ENVIRONMENT', ADMIN = 'ADMIN' }
registerEnumType(GeoOriginEnum, { name: 'GeoOrigin', description: 'Where a geo permission comes from: the environment at start, or an admin at run time (wins).' });

export enum BlockReasonEnum { NUMBER_TYPE = 'NUMBER_TYPE', GEO_BLOCKED = 'GEO_BLOCKED', PREFIX_BLOCKED = 'PREFIX_BLOCKED', FAIL_CLOSED = 'FAIL_CLOSED' }
registerEnumType(BlockReasonEnum, { name: 'FraudBlockReason', description: 'Why the fraud guard refused a send.' });

export enum SafeListKindEnum { NUMBER = 'NUMBER', PREFIX = 'PREFIX' }
registerEnumType(SafeListKindEnum, { name: 'SafeListKind' });

@ObjectType('BlockedSend', { description: 'A send the fraud guard refused: nothing was sent and no OTP was created.' })
export class BlockedSendType {
  @Field(() => ID) id: string;
  @Field(() => BlockReasonEnum) reason: BlockReasonEnum;
  @Field(() => String, { nullable: true, description: 'The number, masked: +91******1637.' }) maskedNumber: string | null;
  @Field(() => String, { nullable: true, description: 'ISO country code of the number.' }) country: string | null;
  @Field(() => String, { nullable: true, description: 'libphonenumber-js type: MOBILE, FIXED_LINE, PREMIUM_RATE, ...' }) numberType: string | null;
  @Field(() => String, { nullable: true, description: 'The number without its last four digits.' }) prefix: string | null;
  @Field(() => [String]) channels: string[];
  @Field(() => String) source: string;
  @Field(() => Int, { nullable: true }) ruleId: number | null;
  @Field(() => ID, { nullable: true, description: 'The API key the send came with (null for JWT callers).' }) apiKeyId: string | null;
  @Field(() => ID, { nullable: true, description: 'The acting user.' }) userId: string | null;
  @Field(() => String, { nullable: true, description: 'Why, in words.' }) detail: string | null;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('PrefixBlock', { description: 'A number prefix blocked because its sends were not verified; escalates on repeat.' })
export class PrefixBlockType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'The E.164 number without its last four digits, e.g. +4479111234.' }) prefix: string;
  @Field(() => String, { nullable: true }) country: string | null;
  @Field(() => Int, { description: '1 for a first block, 2 for a repeat (longer), ...' }) level: number;
  @Field(() => String) reason: string;
  @Field(() => Int, { description: 'Sends to the prefix in the window when it was blocked.' }) sends: number;
  @Field(() => Int, { description: 'Of which verified.' }) verified: number;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) expiresAt: Date;
  @Field(() => Date, { nullable: true, description: 'When an admin lifted it (unblockPrefix).' }) liftedAt: Date | null;
}

@ObjectType('GeoPermission')
export class GeoPermissionType {
  @Field(() => String, { description: 'ISO country code, or * for every country not listed.' }) country: string;
  @Field(() => GeoActionEnum) action: GeoActionEnum;
  @Field(() => GeoOriginEnum) origin: GeoOriginEnum;
  @Field(() => Date, { nullable: true }) updatedAt: Date | null;
}

@ObjectType('SafeListEntry', { description: 'A number or prefix that bypasses screening, geo permissions and prefix blocks.' })
export class SafeListEntryType {
  @Field(() => ID) id: string;
  @Field(() => SafeListKindEnum) kind: SafeListKindEnum;
  @Field(() => String) value: string;
  @Field(() => String, { nullable: true }) note: string | null;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('ConversionSummaryRow', { description: 'OTP sends in a time range for one country, channel, source and rule.' })
export class ConversionSummaryRowType {
  @Field(() => String, { nullable: true, description: 'Null for email sends.' }) country: string | null;
  @Field(() => String) channel: string;
  @Field(() => String) source: string;
  @Field(() => Int, { nullable: true }) ruleId: number | null;
  @Field(() => Int, { description: 'OTPs sent (resends included).' }) sends: number;
  @Field(() => Int, { description: 'OTPs verified (rule OTPs: consumed by a guarded save).' }) verified: number;
  @Field(() => Int, { description: 'Sends the fraud guard refused.' }) blocked: number;
  @Field(() => Int, { description: 'Sends to MONITOR countries.' }) monitored: number;
}

@InputType()
export class SafeListEntryInput {
  @Field(() => SafeListKindEnum) kind: SafeListKindEnum;
  @Field(() => String, { description: 'E.164 number (+447911123456) or prefix (+4479111).' }) @MaxLength(32) value: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) note?: string | null;
}

@ObjectType()
export class BlockedSendPage extends PageOf<FraudEventEntity>(BlockedSendType, 'BlockedSend') {}
@ObjectType()
export class PrefixBlockPage extends PageOf<FraudPrefixBlockEntity>(PrefixBlockType, 'PrefixBlock') {}
@ObjectType()
export class GeoPermissionPage extends PageOf<GeoPermission>(GeoPermissionType, 'GeoPermission') {}
@ObjectType()
export class SafeListEntryPage extends PageOf<FraudSafeListEntryEntity>(SafeListEntryType, 'SafeListEntry') {}
@ObjectType()
export class ConversionSummaryPage extends PageOf<SummaryRow>(ConversionSummaryRowType, 'ConversionSummary') {}

@ObjectType()
export class PrefixBlockPayload {
  @Field(() => PrefixBlockType, { nullable: true }) prefixBlock: FraudPrefixBlockEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class GeoPermissionPayload {
  @Field(() => GeoPermissionType, { nullable: true }) geoPermission: GeoPermission | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class SafeListEntryPayload {
  @Field(() => SafeListEntryType, { nullable: true }) safeListEntry: FraudSafeListEntryEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}
