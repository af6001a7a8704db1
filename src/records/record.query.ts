import { GraphQLError } from 'graphql';
import { decodeCursor, encodeCursor } from '../common/pagination';
import { isIsoDate } from './record.validation';
import { isUuid } from '../common/ids';
import type { FieldType, ModuleDefinition } from './modules';

export type FilterOperator =
  | 'EQUALS' | 'NOT_EQUALS' | 'CONTAINS' | 'STARTS_WITH' | 'GREATER_THAN' | 'LESS_THAN' | 'IS_EMPTY' | 'IS_NOT_EMPTY';

export interface RecordFilter {
  field: string;
  operator: FilterOperator;
  value?: unknown;
}

export interface RecordOrder {
  field: string;
  direction: 'ASC' | 'DESC';
}

type SortKind = 'text' | 'numeric' | 'boolean' | 'timestamp';

interface Column {
  /** SQL for the value, NULL-free so that keyset comparisons stay total. */
  sortSql: string;
  /** SQL for the raw value, for filters. */
  valueSql: string;
  kind: SortKind;
}

const BUILT_IN: Record<string, Column> = {
  label: { sortSql: 'r.label', valueSql: 'r.label', kind: 'text' },
  createdAt: { sortSql: 'r.created_at', valueSql: 'r.created_at', kind: 'timestamp' },
  updatedAt: { sortSql: 'r.updated_at', valueSql: 'r.updated_at', kind: 'timestamp' },
};

const KIND_OF: Record<FieldType, SortKind> = {
  text: 'text', email: 'text', phone: 'text', date: 'text', picklist: 'text', reference: 'text',
  number: 'numeric', currency: 'numeric', boolean: 'boolean',
};

function badInput(message: string, argumentName: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argumentName } });
}

function columnFor(module: ModuleDefinition, field: string, argumentName: string): Column {
  if (BUILT_IN[field]) return BUILT_IN[field];
  const definition = module.fields.find((f) => f.name === field);
  if (!definition) throw badInput(`${module.name} has no field "${field}" to ${argumentName === 'orderBy' ? 'sort' : 'filter'} by.`, argumentName);
  const key = `r.fields->>'${definition.name}'`; // field names come from the module definition, never from input
  const kind = KIND_OF[definition.type];
  switch (kind) {
    case 'numeric': return { sortSql: `COALESCE((${key})::numeric, '-Infinity'::numeric)`, valueSql: `(${key})::numeric`, kind };
    case 'boolean': return { sortSql: `COALESCE((${key})::boolean::int, -1)`, valueSql: `(${key})::boolean`, kind };
    default: return { sortSql: `COALESCE(${key}, '')`, valueSql: key, kind: 'text' };
  }
}

/** Builds the WHERE, ORDER BY and keyset parts of a `records` query, with numbered parameters. */
export class RecordQuery {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];
  private readonly order: Column;

  constructor(private readonly module: ModuleDefinition, filters: RecordFilter[], private readonly orderBy: RecordOrder, includeDeleted: boolean) {
    this.conditions.push(`r.module = ${this.param(module.name)}`);
    if (!includeDeleted) this.conditions.push('r.deleted_at IS NULL');
    filters.forEach((filter) => this.conditions.push(this.filterSql(filter)));
    this.order = columnFor(module, orderBy.field, 'orderBy');
  }

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  whereSql(): string {
    return this.conditions.join(' AND ');
  }

  /** Rows after the cursor, in order, plus one to tell whether another page follows. */
  pageSql(first: number, after: string | null | undefined): string {
    const conditions = [this.whereSql()];
    const comparison = this.orderBy.direction === 'ASC' ? '>' : '<';
    if (after) {
      const [value, id] = decodeCursor(after, 2);
      if (!isUuid(id) || !this.isSortValue(value)) throw badInput('The `after` cursor is not one this API issued.', 'after');
      conditions.push(`(${this.order.sortSql}, r.id) ${comparison} (${this.param(value)}${this.cast()}, ${this.param(id)}::uuid)`);
    }
    const direction = this.orderBy.direction;
    return `SELECT r.*, (${this.order.sortSql})::text AS sort_value FROM records r WHERE ${conditions.join(' AND ')}
            ORDER BY ${this.order.sortSql} ${direction}, r.id ${direction} LIMIT ${first + 1}`;
  }

  countSql(): string {
    return `SELECT count(*)::int AS count FROM records r WHERE ${this.whereSql()}`;
  }

  /** The sort value travels as Postgres' own text form, so timestamps keep their microseconds. */
  cursorOf(row: { id: string; sort_value: string }): string {
    return encodeCursor([row.sort_value, row.id]);
  }

  private isSortValue(value: unknown): value is string {
    if (typeof value !== 'string') return false;
    switch (this.order.kind) {
      case 'numeric': return /^-?(Infinity|\d+(\.\d+)?)$/.test(value);
      case 'boolean': return /^-?[01]$/.test(value);
      case 'timestamp': return /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/.test(value);
      default: return true;
    }
  }

  private cast(): string {
    return { text: '::text', numeric: '::numeric', boolean: '::int', timestamp: '::timestamptz' }[this.order.kind];
  }

  private filterSql(filter: RecordFilter): string {
    const column = columnFor(this.module, filter.field, 'where');
    const sql = column.valueSql;
    switch (filter.operator) {
      case 'IS_EMPTY': return column.kind === 'text' ? `COALESCE(${sql}, '') = ''` : `${sql} IS NULL`;
      case 'IS_NOT_EMPTY': return column.kind === 'text' ? `COALESCE(${sql}, '') <> ''` : `${sql} IS NOT NULL`;
      case 'CONTAINS':
      case 'STARTS_WITH': {
        if (typeof filter.value !== 'string') throw badInput(`${filter.operator} on "${filter.field}" needs a text value.`, 'where');
        const escaped = filter.value.replace(/[\\%_]/g, (c) => `\\${c}`);
        const pattern = filter.operator === 'CONTAINS' ? `%${escaped}%` : `${escaped}%`;
        return `(${sql})::text ILIKE ${this.param(pattern)}`;
      }
      default: {
        const value = this.comparable(column, filter);
        const op = { EQUALS: '=', NOT_EQUALS: 'IS DISTINCT FROM', GREATER_THAN: '>', LESS_THAN: '<' }[filter.operator];
        return `${sql} ${op} ${this.param(value)}${column.kind === 'timestamp' ? '::timestamptz' : column.kind === 'numeric' ? '::numeric' : column.kind === 'boolean' ? '::boolean' : '::text'}`;
      }
    }
  }

  private comparable(column: Column, filter: RecordFilter): unknown {
    const value = filter.value;
    const ok =
      (column.kind === 'numeric' && typeof value === 'number' && Number.isFinite(value)) ||
      (column.kind === 'boolean' && typeof value === 'boolean') ||
      (column.kind === 'text' && typeof value === 'string') ||
      (column.kind === 'timestamp' && typeof value === 'string' && (isIsoDate(value) || !Number.isNaN(Date.parse(value))));
    if (!ok) throw badInput(`${filter.operator} on "${filter.field}" needs a ${column.kind === 'timestamp' ? 'date-time' : column.kind} value.`, 'where');
    return value;
  }
}
