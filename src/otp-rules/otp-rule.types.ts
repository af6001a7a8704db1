import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { OtpRuleEntity } from './otp-rule.entity';
import { OtpRequestType } from '../otp/otp.types';
import type { OtpChannel, OtpCodeType, OtpRequestEntity } from '../otp/otp-request.entity';

export enum ConditionOperatorEnum {
  EQUALS = 'EQUALS', NOT_EQUALS = 'NOT_EQUALS', CONTAINS = 'CONTAINS', STARTS_WITH = 'STARTS_WITH',
  GREATER_THAN = 'GREATER_THAN', LESS_THAN = 'LESS_THAN', IS_EMPTY = 'IS_EMPTY', IS_NOT_EMPTY = 'IS_NOT_EMPTY',
  HAS_CHANGED = 'HAS_CHANGED', HAS_CHANGED_TO = 'HAS_CHANGED_TO', HAS_CHANGED_FROM = 'HAS_CHANGED_FROM',
}
registerEnumType(ConditionOperatorEnum, { name: 'ConditionOperator', description: 'HAS_CHANGED* compare the record before and after the save; the others look at it after.' });

export enum ConditionMatch { ALL = 'ALL', ANY = 'ANY' }
registerEnumType(ConditionMatch, { name: 'ConditionMatch' });

export enum RuleResendMode { NEW_CODE = 'NEW_CODE', SAME_CODE_IF_VALID = 'SAME_CODE_IF_VALID' }
registerEnumType(RuleResendMode, { name: 'RuleResendMode' });

// RuleCodeType and RuleChannel hold the same values as OtpCodeType and OtpChannel; they stay separate GraphQL enums
// only so the published schema keeps its names. In TypeScript both features use `OtpCodeType` and `OtpChannel`.
export enum RuleCodeType { NUMERIC = 'NUMERIC', ALPHABETIC = 'ALPHABETIC', ALPHANUMERIC = 'ALPHANUMERIC' }
registerEnumType(RuleCodeType, { name: 'RuleCodeType' });

export enum RuleChannelEnum { SMS = 'SMS', WHATSAPP = 'WHATSAPP', EMAIL = 'EMAIL' }
registerEnumType(RuleChannelEnum, { name: 'RuleChannel' });

@ObjectType('RuleCondition')
@InputType('RuleConditionInput')
export class RuleConditionType {
  @Field(() => String) field: string;
  @Field(() => ConditionOperatorEnum) operator: ConditionOperatorEnum;
  @Field(() => GraphQLJSON, { nullable: true, description: 'A string, number or boolean matching the field type; none for IS_EMPTY, IS_NOT_EMPTY, HAS_CHANGED.' })
  value?: string | number | boolean | null;
}

@ObjectType('RuleConditionGroup')
@InputType('RuleConditionGroupInput')
export class RuleConditionGroupType {
  @Field(() => ConditionMatch) match: ConditionMatch;
  @Field(() => [RuleConditionType]) conditions: RuleConditionType[];
}

@ObjectType('OtpRule', { description: 'A protected state: a save that matches needs a valid OTP for this rule.' })
export class OtpRuleType {
  @Field(() => Int) id: number;
  @Field(() => String) name: string;
  @Field(() => String, { description: 'The name without non-alphanumerics, e.g. "TestRule1Test2XYZ": usable wherever the id is.' }) sanitizedName: string;
  @Field(() => String) module: string;
  @Field(() => String) description: string;
  @Field(() => Boolean) active: boolean;
  @Field(() => [String], { description: 'Users of these profiles are challenged; empty = all users.' }) applicableProfiles: string[];
  @Field(() => Boolean) allowClosedRecords: boolean;
  @Field(() => [RuleConditionGroupType], { description: 'The rule matches when every group matches.' }) conditions: RuleConditionGroupType[];
  @Field(() => RuleCodeType) codeType: OtpCodeType;
  @Field(() => Int) codeLength: number;
  @Field(() => Int) validForSeconds: number;
  @Field(() => RuleResendMode) resendMode: string;
  @Field(() => Int) maxResendAttempts: number;
  @Field(() => Int) resetResendAfterSeconds: number;
  @Field(() => Int) maxValidationAttempts: number;
  @Field(() => Int) resetValidationAfterSeconds: number;
  @Field(() => [RuleChannelEnum]) channels: OtpChannel[];
  @Field(() => String, { nullable: true, description: "Record field with the mobile number or email; null = the acting user's email." }) recipientField: string | null;
  @Field(() => String, { nullable: true, description: 'EMAIL template of the OTP (default otp_rule_email); its subject is the email subject.' }) emailTemplateId: string | null;
  @Field(() => String, { nullable: true, description: 'SMS template of the OTP (default otp_rule_sms).' }) smsTemplateId: string | null;
  @Field(() => String, { nullable: true, description: 'WhatsApp template of the OTP (default otp_whatsapp).' }) whatsappTemplateId: string | null;
  @Field(() => Boolean) autoSendOnMatch: boolean;
  @Field(() => [String], { description: 'Every way a save can carry this rule\'s OTP.' }) acceptedKeys: string[];
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

/** What anyone who can see an OTP request may know of its rule; the rule's settings stay with admins. */
@ObjectType('OtpRuleRef', { description: 'The rule an OTP was sent for: its id and name only. Admins read the rule itself with otpRule(id).' })
export class OtpRuleRefType {
  @Field(() => Int) id: number;
  @Field(() => String) name: string;
}

@InputType({ description: 'Fields of an OTP rule; on update, omitted fields keep their value.' })
export class OtpRuleInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) module?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true }) active?: boolean | null;
  @Field(() => [String], { nullable: true }) applicableProfiles?: string[] | null;
  @Field(() => Boolean, { nullable: true }) allowClosedRecords?: boolean | null;
  @Field(() => [RuleConditionGroupType], { nullable: true }) conditions?: RuleConditionGroupType[] | null;
  @Field(() => RuleCodeType, { nullable: true }) codeType?: OtpCodeType | null;
  @Field(() => Int, { nullable: true }) codeLength?: number | null;
  @Field(() => Int, { nullable: true }) validForSeconds?: number | null;
  @Field(() => RuleResendMode, { nullable: true }) resendMode?: RuleResendMode | null;
  @Field(() => Int, { nullable: true }) maxResendAttempts?: number | null;
  @Field(() => Int, { nullable: true }) resetResendAfterSeconds?: number | null;
  @Field(() => Int, { nullable: true }) maxValidationAttempts?: number | null;
  @Field(() => Int, { nullable: true }) resetValidationAfterSeconds?: number | null;
  @Field(() => [RuleChannelEnum], { nullable: true }) channels?: OtpChannel[] | null;
  @Field(() => String, { nullable: true }) recipientField?: string | null;
  @Field(() => String, { nullable: true, description: 'An EMAIL template; may use {{record.<field>}}, {{record.label}}, {{record.module}}, {{rule.name}}, {{change}}, {{otp}}, {{expiresInMinutes}}.' }) emailTemplateId?: string | null;
  @Field(() => String, { nullable: true, description: 'An SMS template (same variables as emailTemplateId).' }) smsTemplateId?: string | null;
  @Field(() => String, { nullable: true, description: 'A WHATSAPP template (same variables as emailTemplateId).' }) whatsappTemplateId?: string | null;
  @Field(() => Boolean, { nullable: true }) autoSendOnMatch?: boolean | null;
}

@ObjectType()
export class OtpRulePayload {
  @Field(() => OtpRuleType, { nullable: true }) otpRule: OtpRuleEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class DeleteOtpRulePayload {
  @Field(() => ID, { nullable: true }) deletedId: number | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class SendRuleOtpPayload {
  @Field(() => OtpRequestType, { nullable: true }) otpRequest: OtpRequestEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class SendRuleOtpResult {
  @Field(() => ID) recordId: string;
  @Field(() => OtpRequestType, { nullable: true }) otpRequest: OtpRequestEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class SendRuleOtpBulkPayload {
  @Field(() => Int) sentCount: number;
  @Field(() => [SendRuleOtpResult]) results: SendRuleOtpResult[];
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType({ description: 'OTP rules by id.' })
export class OtpRulePage extends PageOf<OtpRuleEntity>(OtpRuleType, 'OtpRule') {}

@InputType()
export class OtpRuleFilterInput {
  @Field(() => String, { nullable: true, description: 'Only rules of this module (any spelling of its name).' }) module?: string | null;
  @Field(() => Boolean, { nullable: true }) active?: boolean | null;
}
