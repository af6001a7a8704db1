import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ArrayMaxSize, ArrayMinSize, IsOptional, MaxLength, ValidateNested } from 'class-validator';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { ConnectionTypeEntity, PropertyType } from './connection-type.entity';

export enum ConnectionPropertyTypeEnum {
  TEXT = 'TEXT', NUMBER = 'NUMBER', DATE = 'DATE', BOOLEAN = 'BOOLEAN', PICKLIST = 'PICKLIST',
}
registerEnumType(ConnectionPropertyTypeEnum, { name: 'ConnectionPropertyType' });

export enum ConnectionPolicy { RESTRICT = 'RESTRICT', IGNORE = 'IGNORE', END = 'END', DELETE = 'DELETE' }
registerEnumType(ConnectionPolicy, {
  name: 'ConnectionPolicy',
  description: 'What to do with existing connections that a change to their type would leave not fitting it.',
  valuesConfig: {
    RESTRICT: { description: 'Refuse the change and list the connections in the way.' },
    IGNORE: { description: 'Change the type and keep the connections as they are (the integrity report lists them).' },
    END: { description: 'Change the type and end the connections (end date yesterday, or their start date if later).' },
    DELETE: { description: 'Change the type and delete the connections.' },
  },
});

/** The only modules a connection type may link; records of other modules (Deals, Cases) take no connections. */
export const CONNECTABLE_MODULES = ['Leads', 'Contacts', 'Organizations', 'Vendors'];
export const MAX_PROPERTIES = 50;
export const MAX_OPTIONS = 200;

@ObjectType('ConnectionPropertyDefinition', { simpleResolvers: true, description: 'A custom property of the connections of a type.' })
export class ConnectionPropertyDefinitionType {
  @Field(() => String, { description: 'The key in `Connection.properties`.' }) key: string;
  @Field(() => String) label: string;
  @Field(() => ConnectionPropertyTypeEnum) type: PropertyType;
  @Field(() => Boolean) required: boolean;
  @Field(() => [String], { description: 'Allowed values of a PICKLIST; empty otherwise.' }) options: string[];
}

@ObjectType('ConnectionType', { simpleResolvers: true, description: 'What a connection means, read from each side ("is working at" / "employs"), and between which modules.' })
export class ConnectionTypeType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: 'The label read from the source record, e.g. "is working at".' }) name: string;
  @Field(() => String, { description: 'The label read from the target record, e.g. "employs"; equal to `name` when symmetric.' }) inverseName: string;
  @Field(() => Boolean, { description: 'Both sides read the same label and the two records may be given in either order ("spouse", "knows").' }) symmetric: boolean;
  @Field(() => [String]) sourceModules: string[];
  @Field(() => [String]) targetModules: string[];
  @Field(() => Boolean, { description: 'Whether a record may be connected to itself.' }) allowSelf: boolean;
  @Field(() => [ConnectionPropertyDefinitionType]) properties: ConnectionPropertyDefinitionType[];
  @Field(() => Boolean, { description: 'Inactive types keep their connections but take no new ones.' }) active: boolean;
  @Field(() => Boolean, { description: 'Seeded by the product; can be changed or deactivated, never deleted.' }) isSystem: boolean;
  @Field(() => String, { nullable: true, description: 'The module of the context record a connection may carry ("reports to X at Organization Y"); null: none.' }) contextModule: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

@InputType()
export class ConnectionPropertyDefinitionInput {
  @Field(() => String, { description: 'Letters, digits and underscores, starting with a letter; at most 64.' }) @MaxLength(64) key: string;
  @Field(() => String) @MaxLength(100) label: string;
  @Field(() => ConnectionPropertyTypeEnum) type: ConnectionPropertyTypeEnum;
  @Field(() => Boolean, { defaultValue: false }) required: boolean;
  @Field(() => [String], { nullable: true, description: 'Required for PICKLIST, refused for the other types.' })
  @IsOptional() @ArrayMaxSize(MAX_OPTIONS) @MaxLength(100, { each: true })
  options?: string[] | null;
}

@InputType()
export class CreateConnectionTypeInput {
  @Field(() => String) @MaxLength(100) name: string;
  @Field(() => String, { nullable: true, description: 'Defaults to `name` for symmetric types; required otherwise.' })
  @IsOptional() @MaxLength(100)
  inverseName?: string | null;
  @Field(() => Boolean, { defaultValue: false, description: 'Fixed once the type is created.' }) symmetric: boolean;
  @Field(() => [String]) @ArrayMinSize(1) @ArrayMaxSize(10) sourceModules: string[];
  @Field(() => [String]) @ArrayMinSize(1) @ArrayMaxSize(10) targetModules: string[];
  @Field(() => Boolean, { defaultValue: false }) allowSelf: boolean;
  @Field(() => [ConnectionPropertyDefinitionInput], { nullable: true }) @IsOptional() @ArrayMaxSize(MAX_PROPERTIES) @ValidateNested({ each: true })
  properties?: ConnectionPropertyDefinitionInput[] | null;
  @Field(() => Boolean, { defaultValue: true }) active: boolean;
  @Field(() => String, { nullable: true, description: 'Lets connections carry a context record of this module.' }) @IsOptional() @MaxLength(32)
  contextModule?: string | null;
}

@InputType({ description: 'The changes; omitted fields stay as they are. `properties`, when given, replaces the whole list.' })
export class UpdateConnectionTypeInput {
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(100) name?: string | null;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(100) inverseName?: string | null;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMinSize(1) @ArrayMaxSize(10) sourceModules?: string[] | null;
  @Field(() => [String], { nullable: true }) @IsOptional() @ArrayMinSize(1) @ArrayMaxSize(10) targetModules?: string[] | null;
  @Field(() => Boolean, { nullable: true }) allowSelf?: boolean | null;
  @Field(() => [ConnectionPropertyDefinitionInput], { nullable: true }) @IsOptional() @ArrayMaxSize(MAX_PROPERTIES) @ValidateNested({ each: true })
  properties?: ConnectionPropertyDefinitionInput[] | null;
  @Field(() => Boolean, { nullable: true }) active?: boolean | null;
  @Field(() => String, { nullable: true, description: 'null removes it; refused with IN_USE while connections of the type name a context record.' }) @IsOptional() @MaxLength(32)
  contextModule?: string | null;
}

@ObjectType()
export class ConnectionTypePayload {
  @Field(() => ConnectionTypeType, { nullable: true }) connectionType: ConnectionTypeEntity | null;
  @Field(() => [ID], { description: 'Connections the policy acted on (or, refused with RESTRICT, the ones in the way).' })
  affectedConnectionIds: string[];
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType({ description: 'Connection types: system types first, then by name.' })
export class ConnectionTypePage extends PageOf<ConnectionTypeEntity>(ConnectionTypeType, 'ConnectionType') {}

@InputType()
export class ConnectionTypeFilterInput {
  @Field(() => String, { nullable: true, description: 'Only types usable with records of this module, on either side.' }) module?: string | null;
  @Field(() => Boolean, { nullable: true, defaultValue: true, description: 'true (the default): active types; false: inactive ones; null: both.' })
  active?: boolean | null;
}
