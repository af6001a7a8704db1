import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { Max, Min } from 'class-validator';
import { BadUserInput } from './errors';
import { isUuid } from './ids';
import { forbiddenCharacter } from './text';
import { parseTimestamp } from './timestamps';

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 20, description: 'How many items, 1–100.' })
  @Min(1)
  @Max(100)
  first: number = 20;

  @Field(() => String, { nullable: true, description: 'The `endCursor` of the previous page.' })
  after?: string | null;
}

@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface PageSource<T> {
  /** Up to `first + 1` rows; the extra one only tells whether a next page exists. */
  rows: T[];
  first: number;
  cursorOf: (row: T) => string;
  count: () => Promise<number>;
}

/** A page type named `XPage`, so it never clashes with the domain's `Connection`. */
export function PageOf<T extends object>(NodeClass: ClassType<object>, name: string) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field(() => String)
    cursor: string;

    @Field(() => NodeClass)
    node: T;
  }

  // Never referenced itself, so type-graphql leaves it out of the schema; `XPage` subclasses carry the name.
  @ObjectType()
  abstract class Page {
    source: PageSource<T>;

    @Field(() => [NodeClass])
    get nodes(): T[] {
      return this.source.rows.slice(0, this.source.first);
    }

    @Field(() => [Edge])
    get edges(): Edge[] {
      return this.nodes.map((node) => ({ cursor: this.source.cursorOf(node), node }));
    }

    @Field(() => PageInfo)
    get pageInfo(): PageInfo {
      const nodes = this.nodes;
      const last = nodes[nodes.length - 1];
      return { hasNextPage: this.source.rows.length > this.source.first, endCursor: last ? this.source.cursorOf(last) : null };
    }

    @Field(() => Int, { description: 'All items matching the filter; counted only when asked for.' })
    totalCount(): Promise<number> {
      return this.source.count();
    }
  }
  return Page;
}

export function makePage<P extends { source: PageSource<T> }, T>(PageClass: new () => P, source: PageSource<T>): P {
  const page = new PageClass();
  page.source = source;
  return page;
}

export function encodeCursor(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** What one part of a cursor must be: a UUID, a date-time (see {@link parseTimestamp}), text, or a check of its own. */
export type CursorPart = 'uuid' | 'timestamp' | 'text' | ((value: unknown) => boolean);

const CURSOR_CHECKS: Record<Exclude<CursorPart, Function>, (value: unknown) => boolean> = {
  uuid: isUuid,
  timestamp: (value) => parseTimestamp(value) !== null,
  text: (value) => typeof value === 'string' && forbiddenCharacter(value) === null,
};

/**
 * Decodes a cursor made by {@link encodeCursor} and checks every part, so that nothing a client made up reaches
 * Postgres (where a bad date or a NUL would be a 500); anything else is a client error naming `after`.
 */
export function decodeCursor(cursor: string, parts: CursorPart[]): unknown[] {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === parts.length
      && parts.every((part, i) => (typeof part === 'function' ? part : CURSOR_CHECKS[part])(decoded[i]))) {
      return decoded;
    }
  } catch {
    // fall through to the error below
  }
  throw badCursor();
}

export function badCursor(): BadUserInput {
  return new BadUserInput('The `after` cursor is not one this API issued.', 'after');
}
