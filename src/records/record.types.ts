import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject, GraphQLLocalDate } from 'graphql-scalars';
import { IsOptional, MaxLength } from 'class-validator';
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

export enum ConnectedSide { SOURCE = 'SOURCE', TARGET = 'TARGET' }
registerEnumType(ConnectedSide, {
  name: 'ConnectedSide',
  description: 'The side a record is on in a connection.',
  valuesConfig: {
    SOURCE: { description: 'The record is the source: it reads the type\'s `name` ("is working at").' },
    TARGET: { description: 'The record is the target: it reads the type\'s `inverseName` ("employs").' },
  },
});

@InputType({ description: 'Records linked by a connection whose other record is live; every given part must hold.' })
export class RecordConnectedFilterInput {
  @Field(() => ID, { nullable: true, description: 'Only connections of this type.' }) typeId?: string | null;
  @Field(() => ConnectedSide, { nullable: true, description: 'The side the listed record is on; symmetric types match either side.' }) side?: ConnectedSide | null;
  @Field(() => ID, { nullable: true, description: 'The other record: records connected to this one.' }) to?: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true, description: 'Only connections in force that day (start ≤ day ≤ end; open ends are infinite).' })
  activeOn?: string | null;
}

@InputType({ description: 'One condition: on a record field (`field`, `operator`, `value`) or on its connections (`connected`); all conditions must hold.' })
export class RecordFilterInput {
  @Field(() => String, { nullable: true, description: 'A module field, or label, createdAt, updatedAt.' }) field?: string | null;
  @Field(() => FilterOperatorEnum, { nullable: true }) operator?: FilterOperatorEnum | null;
  @Field(() => GraphQLJSON, { nullable: true }) value?: unknown;
  @Field(() => RecordConnectedFilterInput, { nullable: true, description: 'Records with a connection matching this (instead of field and operator).' })
  connected?: RecordConnectedFilterInput | null;
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

export enum MergedConnectionOutcomeEnum { MOVED = 'MOVED', FOLDED = 'FOLDED', ENDED = 'ENDED' }
registerEnumType(MergedConnectionOutcomeEnum, {
  name: 'MergedConnectionOutcome',
  valuesConfig: {
    MOVED: { description: 'Now links the survivor instead of the merged record.' },
    FOLDED: { description: 'Duplicated a connection of the survivor for overlapping dates: folded into it (dates widened) and removed.' },
    ENDED: { description: 'Became a self-link on a type that forbids them: moved and ended.' },
  },
});

/** At most this many connections are created with one record. */
export const MAX_RECORD_CONNECTIONS = 100;

@InputType({ description: 'A connection created together with a new record (createRecord); all are saved with it or none.' })
export class NewRecordConnectionInput {
  @Field(() => ID) typeId: string;
  @Field(() => ID, { description: 'The record at the other end.' }) otherId: string;
  @Field(() => ConnectedSide, { description: 'The side of the connection the new record takes. SOURCE: the new record is the source ("is working at" the other); TARGET: the target.' }) side: ConnectedSide;
  @Field(() => GraphQLLocalDate, { nullable: true }) startDate?: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true }) endDate?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) properties?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2000) notes?: string | null;
  @Field(() => ID, { nullable: true, description: "A record of the type's context module." }) contextRecordId?: string | null;
}

@InputType({ description: 'Which record a field of the survivor comes from.' })
export class FieldChoiceInput {
  @Field(() => String) @MaxLength(100) field: string;
  @Field(() => ID, { description: 'The survivor or one of the merged records.' }) fromId: string;
}

@ObjectType({ description: 'What a merge did with one connection of a merged record.' })
export class MergedConnectionType {
  @Field(() => ID) connectionId: string;
  @Field(() => MergedConnectionOutcomeEnum) outcome: MergedConnectionOutcomeEnum;
  @Field(() => ID, { nullable: true, description: "FOLDED: the survivor's connection it was folded into." }) intoConnectionId: string | null;
}

@ObjectType()
export class MergeRecordsPayload {
  @Field(() => RecordType, { nullable: true, description: 'The survivor as saved.' }) record: RecordEntity | null;
  @Field(() => [ID]) mergedIds: string[];
  @Field(() => [MergedConnectionType]) connections: MergedConnectionType[];
  @Field(() => [UserError]) userErrors: UserError[];
}
