import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject, GraphQLLocalDate } from 'graphql-scalars';
import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { ConnectionEntity } from './connection.entity';
import { ConnectionDirection, ConnectionStatus } from './connection.enums';
import type { RecordConnectionView } from './record-connection.view';
import { ConnectionHistoryAction } from './connection-history.entity';
import type { ConnectionHistoryRow } from './connection-history';

export const MAX_BATCH = 100;

@ObjectType('Connection', { simpleResolvers: true, description: 'A typed link between two records, stored once and readable from either side.' })
export class ConnectionObjectType {
  @Field(() => ID) id: string;
  @Field(() => GraphQLLocalDate, { nullable: true }) startDate: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true, description: 'The last day the connection is in force.' }) endDate: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Values of the properties defined by the type.' }) properties: Record<string, unknown>;
  @Field(() => String, { nullable: true }) notes: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

@ObjectType('RecordConnection', { simpleResolvers: true, description: 'A connection as seen from one of its two records.' })
export class RecordConnectionType {
  @Field(() => ID, {
    description: 'The connection\'s id (for `updateConnection`, `deleteConnection`). Deliberately not `id`: the two sides of one connection are different objects, and client caches must not merge them.',
  }) connectionId: string;
  @Field(() => ConnectionDirection) direction: ConnectionDirection;
  @Field(() => ConnectionStatus) status: ConnectionStatus;
  @Field(() => GraphQLLocalDate, { nullable: true }) startDate: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true }) endDate: string | null;
  @Field(() => GraphQLJSONObject) properties: Record<string, unknown>;
  @Field(() => String, { nullable: true }) notes: string | null;
}

@ObjectType()
export class ConnectionPage extends PageOf<ConnectionEntity>(ConnectionObjectType, 'Connection') {}

@ObjectType()
export class RecordConnectionPage extends PageOf<RecordConnectionView>(RecordConnectionType, 'RecordConnection') {}

@InputType({ description: 'Which of a record\'s connections to list; all conditions must hold.' })
export class RecordConnectionFilterInput {
  @Field(() => [ID], { nullable: true }) @IsOptional() @ArrayMaxSize(100) typeIds?: string[] | null;
  @Field(() => ConnectionDirection, { nullable: true, description: 'OUTGOING or INCOMING also match symmetric (MUTUAL) connections.' })
  direction?: ConnectionDirection | null;
  @Field(() => ConnectionStatus, { nullable: true }) status?: ConnectionStatus | null;
  @Field(() => String, { nullable: true, description: 'Only connections whose other record is of this module.' }) @IsOptional() @MaxLength(32)
  otherModule?: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true, description: 'Only connections in force that day (start ≤ day ≤ end; open ends are infinite).' })
  activeOn?: string | null;
}

@InputType()
export class ConnectionFilterInput {
  @Field(() => [ID], { nullable: true }) @IsOptional() @ArrayMaxSize(100) typeIds?: string[] | null;
  @Field(() => ConnectionStatus, { nullable: true }) status?: ConnectionStatus | null;
  @Field(() => ID, { nullable: true, description: 'Only connections with this record on either side.' }) recordId?: string | null;
}

@InputType()
export class CreateConnectionInput {
  @Field(() => ID) typeId: string;
  @Field(() => ID, { description: 'The record the type\'s `name` is read from ("Asha" is working at …).' }) sourceId: string;
  @Field(() => ID, { description: 'The record the type\'s `inverseName` is read from ("Acme" employs …).' }) targetId: string;
  @Field(() => GraphQLLocalDate, { nullable: true }) startDate?: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true }) endDate?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) properties?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2000) notes?: string | null;
  @Field(() => ID, { nullable: true, description: 'A live record of the type\'s `contextModule` (e.g. the organization of "reports to").' }) contextRecordId?: string | null;
}

@InputType({ description: 'The changes; omitted fields stay, null clears. Type and records are fixed: delete and create instead.' })
export class UpdateConnectionInput {
  @Field(() => GraphQLLocalDate, { nullable: true }) startDate?: string | null;
  @Field(() => GraphQLLocalDate, { nullable: true }) endDate?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Merged into the saved properties; a null value removes a key.' })
  properties?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2000) notes?: string | null;
  @Field(() => ID, { nullable: true, description: 'null removes it.' }) contextRecordId?: string | null;
}

@ObjectType()
export class ConnectionPayload {
  @Field(() => ConnectionObjectType, { nullable: true }) connection: ConnectionEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class CreateConnectionResult {
  @Field(() => Int, { description: 'Index of the item in the input.' }) index: number;
  @Field(() => ConnectionObjectType, { nullable: true }) connection: ConnectionEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class CreateConnectionsPayload {
  @Field(() => Int) createdCount: number;
  @Field(() => Int) failedCount: number;
  @Field(() => [CreateConnectionResult]) results: CreateConnectionResult[];
  @Field(() => [UserError], { description: 'Errors about the batch as a whole (e.g. too many items).' }) userErrors: UserError[];
}

@ObjectType('ConnectionHistoryEntry', { simpleResolvers: true, description: 'One create, change or deletion of a connection, written in the same transaction as the change.' })
export class ConnectionHistoryEntryType {
  @Field(() => ID) id: string;
  @Field(() => ID) connectionId: string;
  @Field(() => ConnectionHistoryAction) action: ConnectionHistoryAction;
  @Field(() => Date) at: Date;
  @Field(() => [String], { description: 'Recorded values that changed (UPDATED, ENDED): typeId, sourceId, targetId, startDate, endDate, properties, notes.' })
  changedFields: string[];
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The connection before the change (null for CREATED).' }) oldValues: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The connection after the change (null for DELETED).' }) newValues: Record<string, unknown> | null;
}

@ObjectType()
export class ConnectionHistoryPage extends PageOf<ConnectionHistoryRow>(ConnectionHistoryEntryType, 'ConnectionHistoryEntry') {}

@ObjectType('RecordConnectionGroup', { description: 'A record\'s connections of one type read with one label (one side), with their number and first page.' })
export class RecordConnectionGroupType {
  @Field(() => ConnectionDirection, { description: 'The side: OUTGOING (label = name), INCOMING (inverseName) or MUTUAL (symmetric).' }) direction: ConnectionDirection;
  @Field(() => Int) totalCount: number;
  @Field(() => RecordConnectionPage, { description: 'The first connections of the group, oldest first. Next pages: `Record.connections(filter: { typeIds: [type.id], direction }, after: endCursor)` with the same other filters.' })
  connections: RecordConnectionPage;
}
