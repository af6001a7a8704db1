import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { ConnectionEntity } from './connection.entity';
import { ConnectionDirection } from './connection.enums';

/** One hop of a path, read from the walker's side: `from` is the record the walk is on, `to` the next. */
export class PathStepView {
  constructor(readonly connection: ConnectionEntity, readonly fromId: string, readonly toId: string) {}
  get connectionId(): string { return this.connection.id; }
  get direction(): ConnectionDirection {
    if (this.connection.symmetric) return ConnectionDirection.MUTUAL;
    return this.connection.sourceId === this.fromId ? ConnectionDirection.OUTGOING : ConnectionDirection.INCOMING;
  }
}

export class PathView {
  constructor(readonly recordIds: string[], readonly steps: PathStepView[]) {}
  get hops(): number { return this.steps.length; }
}

export class ConflictView {
  constructor(readonly recordId: string, readonly visible: boolean, readonly path: PathView | null) {}
  get linked(): boolean { return this.path !== null; }
}

@ObjectType('ConnectionPathStep', { simpleResolvers: true, description: 'One hop of a path, read from the walker\'s side.' })
export class ConnectionPathStepType {
  @Field(() => ID) connectionId: string;
  @Field(() => ConnectionDirection, { description: 'OUTGOING when the walker\'s record is the source, INCOMING when it is the target, MUTUAL for symmetric types.' })
  direction: ConnectionDirection;
}

@ObjectType('ConnectionPath', { simpleResolvers: true, description: 'A chain of connections between two records through live records, no record twice.' })
export class ConnectionPathType {
  @Field(() => Int) hops: number;
  @Field(() => [ID], { description: 'The records along the path, from the start to the end (hops + 1 of them).' }) recordIds: string[];
  @Field(() => [ConnectionPathStepType]) steps: PathStepView[];
}

@ObjectType('ConflictCheckResult', { simpleResolvers: true, description: 'Whether one of the `against` records is linked to the checked record within maxHops, and how.' })
export class ConflictCheckResultType {
  @Field(() => ID) recordId: string;
  @Field(() => Boolean) linked: boolean;
  @Field(() => ConnectionPathType, { nullable: true, description: 'A shortest path from the checked record to this one, when linked.' }) path: PathView | null;
}
