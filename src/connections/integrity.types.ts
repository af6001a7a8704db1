import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import type { ConnectionEntity } from './connection.entity';
import { ConnectionObjectType } from './connection.types';

export enum IntegrityIssueKind {
  DANGLING_ENDPOINT = 'DANGLING_ENDPOINT',
  MODULE_MISMATCH = 'MODULE_MISMATCH',
  INVALID_PROPERTIES = 'INVALID_PROPERTIES',
  SELF_LINK = 'SELF_LINK',
  DUPLICATE = 'DUPLICATE',
  STALE_STATUS = 'STALE_STATUS',
}
registerEnumType(IntegrityIssueKind, {
  name: 'IntegrityIssueKind',
  valuesConfig: {
    DANGLING_ENDPOINT: { description: 'A record the connection links no longer exists.' },
    MODULE_MISMATCH: { description: 'The records are no longer of modules the type allows.' },
    INVALID_PROPERTIES: { description: 'The properties no longer satisfy the type (required, type, options, unknown keys).' },
    SELF_LINK: { description: 'The connection links a record to itself and the type forbids it.' },
    DUPLICATE: { description: 'An older connection of the same type links the same records for overlapping dates.' },
    STALE_STATUS: { description: 'The connection still reads ACTIVE although its type has been deactivated.' },
  },
});

export enum RepairAction { DELETE = 'DELETE', END = 'END', IGNORE = 'IGNORE' }
registerEnumType(RepairAction, {
  name: 'RepairAction',
  valuesConfig: {
    DELETE: { description: 'Delete the connection.' },
    END: { description: 'End the connection (end date yesterday, or its start date if later) and accept the finding as history.' },
    IGNORE: { description: 'Keep the connection as it is and leave this finding out of future reports.' },
  },
});

export const MAX_REPAIR_ACTIONS = 500;

/** One problem with one connection; `connectionId` and `kind` identify it. */
export interface IntegrityFinding {
  kind: IntegrityIssueKind;
  connectionId: string;
  typeId: string;
  sourceId: string;
  targetId: string;
  message: string;
  repairs: RepairAction[];
  duplicateOfId: string | null;
  /** The connection, unless an endpoint is gone. */
  connection: ConnectionEntity | null;
  cursor: string;
}

@ObjectType('ConnectionIntegrityFinding', { description: 'A connection that no longer fits the rules, and how it can be repaired.' })
export class ConnectionIntegrityFindingType {
  @Field(() => IntegrityIssueKind) kind: IntegrityIssueKind;
  @Field(() => ID) connectionId: string;
  @Field(() => ID) typeId: string;
  @Field(() => ID) sourceId: string;
  @Field(() => ID) targetId: string;
  @Field(() => String) message: string;
  @Field(() => [RepairAction], { description: 'The actions `repairConnections` accepts for this finding.' }) repairs: RepairAction[];
  @Field(() => ID, { nullable: true, description: 'For DUPLICATE: the older connection this one duplicates.' }) duplicateOfId: string | null;
  @Field(() => ConnectionObjectType, { nullable: true, description: 'Null when an endpoint is gone.' }) connection: ConnectionEntity | null;
}

@ObjectType()
export class ConnectionIntegrityFindingPage extends PageOf<IntegrityFinding>(ConnectionIntegrityFindingType, 'ConnectionIntegrityFinding') {}

@InputType()
export class RepairActionInput {
  @Field(() => ID) connectionId: string;
  @Field(() => IntegrityIssueKind, { description: 'The finding being repaired.' }) kind: IntegrityIssueKind;
  @Field(() => RepairAction) action: RepairAction;
}

@ObjectType('RepairResult', { description: 'What one repair action did, or would do in a dry run.' })
export class RepairResultType {
  @Field(() => ID) connectionId: string;
  @Field(() => IntegrityIssueKind) kind: IntegrityIssueKind;
  @Field(() => RepairAction) action: RepairAction;
  @Field(() => Boolean, { description: 'False in a dry run, and when the action was refused.' }) applied: boolean;
  @Field(() => String, { description: 'What was done, or would be done in a dry run.' }) message: string;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class RepairConnectionsPayload {
  @Field(() => Boolean) dryRun: boolean;
  @Field(() => Int) appliedCount: number;
  @Field(() => [RepairResultType]) results: RepairResultType[];
  @Field(() => [UserError], { description: 'Errors about the request as a whole.' }) userErrors: UserError[];
}
