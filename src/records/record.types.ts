import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { MaxLength } from 'class-validator';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { RecordEntity } from './record.entity';

export enum FieldTypeEnum {
  TEXT = 'text', EMAIL = 'email', PHONE = 'phone', NUMBER = 'number', CURRENCY = 'currency',
  DATE = 'date', BOOLEAN = 'boolean', PICKLIST = 'picklist', REFERENCE = 'reference',
}
registerEnumType(FieldTypeEnum, { name: 'FieldType' });

export enum FilterOperatorEnum {
  EQUALS = 'EQUALS', NOT_EQUALS = 'NOT_EQUALS', CONTAINS = 'CONTAINS', STARTS_WITH = 'STARTS_WITH',
  GREATER_THAN = 'GREATER_THAN', LESS_THAN = 'LESS_THAN', IS_EMPTY = 'IS_EMPTY', IS_NOT_EMPTY = 'IS_NOT_EMPTY',
}
registerEnumType(FilterOperatorEnum, { name: 'FilterOperator' });

export enum SortDirection { ASC = 'ASC', DESC = 'DESC' }
registerEnumType(SortDirection, { name: 'SortDirection' });

@ObjectType('ModuleField', { simpleResolvers: true })
export class ModuleFieldType {
  @Field(() => String) name: string;
  @Field(() => String) label: string;
  @Field(() => FieldTypeEnum) type: FieldTypeEnum;
  @Field(() => Boolean) mandatory: boolean;
  @Field(() => [String], { nullable: true, description: 'Allowed values of a picklist.' }) values?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Modules a reference may point at.' }) references?: string[] | null;
}

@ObjectType('ClosedStates', { description: 'Which values of which field count as a closed record.' })
export class ClosedStatesType {
  @Field(() => String) field: string;
  @Field(() => [String]) values: string[];
}

@ObjectType('Module', { description: 'A kind of CRM record, defined in code.' })
export class ModuleType {
  @Field(() => String) name: string;
  @Field(() => String) singular: string;
  @Field(() => [ModuleFieldType]) fields: ModuleFieldType[];
  @Field(() => [String]) labelFields: string[];
  @Field(() => ClosedStatesType, { nullable: true }) closedStates?: ClosedStatesType | null;
}

@ObjectType('Record', { simpleResolvers: true, description: 'A CRM record: a lead, contact, organization, vendor, deal, case or invoice.' })
export class RecordType {
  @Field(() => ID) id: string;
  @Field(() => String) module: string;
  @Field(() => String) label: string;
  @Field(() => GraphQLJSONObject, { description: 'Field values, validated against the module.' }) fields: Record<string, unknown>;
  @Field(() => Int, { description: 'Increases with every save; pass it as `expectedVersion` to refuse stale updates.' }) version: number;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
  @Field(() => Date, { nullable: true }) deletedAt: Date | null;
}

@ObjectType()
export class RecordPage extends PageOf<RecordEntity>(RecordType, 'Record') {}

@InputType({ description: 'One condition on a record field; all conditions must hold.' })
export class RecordFilterInput {
  @Field(() => String, { description: 'A module field, or label, createdAt, updatedAt.' }) field: string;
  @Field(() => FilterOperatorEnum) operator: FilterOperatorEnum;
  @Field(() => GraphQLJSON, { nullable: true }) value?: unknown;
}

@InputType()
export class RecordOrderInput {
  @Field(() => String, { defaultValue: 'createdAt' }) field: string = 'createdAt';
  @Field(() => SortDirection, { defaultValue: SortDirection.DESC }) direction: SortDirection = SortDirection.DESC;
}

@InputType({ description: 'An OTP for an OTP rule that guards this save.' })
export class OtpInput {
  @Field(() => String, { description: 'The rule id, or its sanitised name (e.g. "TestRule1Test2XYZ").' })
  @MaxLength(200)
  rule: string;

  @Field(() => String)
  @MaxLength(64)
  code: string;
}

@ObjectType()
export class RecordPayload {
  @Field(() => RecordType, { nullable: true }) record: RecordEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class ImportRowResultType {
  @Field(() => Int, { description: 'Index of the row in the input.' }) row: number;
  @Field(() => RecordType, { nullable: true }) record: RecordEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class ImportRecordsPayload {
  @Field(() => Int) importedCount: number;
  @Field(() => Int) failedCount: number;
  @Field(() => [ImportRowResultType]) rows: ImportRowResultType[];
  @Field(() => [UserError]) userErrors: UserError[];
}
