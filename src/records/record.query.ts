import { BadUserInput } from '../core/errors';
import { decodeCursor, encodeCursor } from '../core/pagination';
import { forbiddenCharacter } from '../core/text';
import { parseTimestamp } from '../core/timestamps';
import type { FieldType, ModuleDefinition } from './modules';
import { liveRecordSql } from './record.sql';
import type { ConnectedCondition, RecordConditionProvider } from './record-condition';
import { isUuid } from '../core/ids';
import { isIsoDate } from './record.validation';

/** Most conditions one `records(where:)` may hold; each also adds {@link FILTER_COST} to the operation's cost. */
export const MAX_FILTERS = 50;
/** Longest text value (in characters) one filter may compare with. */
export const MAX_FILTER_VALUE_LENGTH = 1000;

export type FilterOperator =
  | 'EQUALS' | 'NOT_EQUALS' | 'CONTAINS' | 'STARTS_WITH' | 'GREATER_THAN' | 'LESS_THAN' | 'IS_EMPTY' | 'IS_NOT_EMPTY';

export interface RecordFilter {
  field?: string | null;
  operator?: FilterOperator | null;
  value?: unknown;
  /** A condition on the record's connections, answered by the registered provider (the connections feature). */
  connected?: { typeId?: string | null; side?: ConnectedCondition['side'] | null; to?: string | null; activeOn?: string | null } | null;
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
  /** A `date` field: text in the form YYYY-MM-DD, so comparisons need a value of that form to mean anything. */
  date?: boolean;
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

function badInput(message: string, argumentName: string): BadUserInput {
  return new BadUserInput(message, argumentName);
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
    default: return { sortSql: `COALESCE(${key}, '')`, valueSql: key, kind: 'text', date: definition.type === 'date' };
  }
}

/** Builds the WHERE, ORDER BY and keyset parts of a `records` query, with numbered parameters. */
export class RecordQuery {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];
  private readonly order: Column;

  constructor(
    private readonly module: ModuleDefinition, filters: RecordFilter[], private readonly orderBy: RecordOrder, includeDeleted: boolean,
    private readonly conditions_: RecordConditionProvider | null = null,
  ) {
    this.conditions.push(`r.module = ${this.param(module.name)}`);
    if (!includeDeleted) this.conditions.push(liveRecordSql('r'));
    if (filters.length > MAX_FILTERS) {
      throw badInput(`where has ${filters.length} filters; at most ${MAX_FILTERS} are allowed.`, 'where');
    }
    // Every bad filter is reported at once, and nothing reaches Postgres unless all are good.
    const problems: string[] = [];
    filters.forEach((filter, index) => {
      try {
        this.conditions.push(this.filterSql(filter, index));
      } catch (error) {
        if (!(error instanceof BadUserInput)) throw error;
        problems.push(error.message);
      }
    });
    if (problems.length) throw badInput(problems.join(' '), 'where');
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
      const [value, id] = decodeCursor(after, [(v) => this.isSortValue(v), 'uuid']);
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

  /** Whether a cursor's sort value is one Postgres can compare with the sort column (it wrote such values itself). */
  private isSortValue(value: unknown): value is string {
    if (typeof value !== 'string') return false;
    switch (this.order.kind) {
      case 'numeric': return /^-?(Infinity|\d{1,400}(\.\d{1,400})?)$/.test(value);
      case 'boolean': return /^-?[01]$/.test(value);
      case 'timestamp': return parseTimestamp(value) !== null;
      default: return forbiddenCharacter(value) === null;
    }
  }

  private cast(): string {
    return { text: '::text', numeric: '::numeric', boolean: '::int', timestamp: '::timestamptz' }[this.order.kind];
  }

  private filterSql(filter: RecordFilter, index: number): string {
    if (filter.connected != null) {
      if (filter.field != null || filter.operator != null) throw badInput(`where[${index}] has both connected and field/operator; give one per condition.`, 'where');
      return this.connectedSql(filter.connected, index);
    }
    if (filter.field == null || filter.operator == null) throw badInput(`where[${index}] needs field and operator (or connected).`, 'where');
    const column = columnFor(this.module, filter.field, 'where');
    const sql = column.valueSql;
    if (typeof filter.value === 'string' && filter.value.length > MAX_FILTER_VALUE_LENGTH) {
      throw badInput(`where[${index}].value (on "${filter.field}") is ${filter.value.length} characters long; at most ${MAX_FILTER_VALUE_LENGTH} are allowed.`, 'where');
    }
    const forbidden = typeof filter.value === 'string' ? forbiddenCharacter(filter.value) : null;
    if (forbidden) throw badInput(`where[${index}].value (on "${filter.field}") holds the control character ${forbidden}.`, 'where');
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

  private connectedSql(connected: NonNullable<RecordFilter['connected']>, index: number): string {
    const problems: string[] = [];
    if (connected.typeId != null && !isUuid(connected.typeId)) problems.push(`where[${index}].connected.typeId is not a connection type id.`);
    if (connected.to != null && !isUuid(connected.to)) problems.push(`where[${index}].connected.to is not a record id.`);
    if (connected.activeOn != null && !isIsoDate(connected.activeOn)) problems.push(`where[${index}].connected.activeOn needs a date as YYYY-MM-DD.`);
    if (!this.conditions_) problems.push(`where[${index}].connected: connections are not available.`);
    if (problems.length) throw badInput(problems.join(' '), 'where');
    const condition: ConnectedCondition = {
      typeId: connected.typeId?.toLowerCase() ?? null, side: connected.side ?? null, to: connected.to?.toLowerCase() ?? null, activeOn: connected.activeOn ?? null,
    };
    return this.conditions_!.connectedSql(condition, 'r.id', (value) => this.param(value));
  }

  private comparable(column: Column, filter: RecordFilter): unknown {
    const value = filter.value;
    if (column.kind === 'timestamp') {
      const timestamp = parseTimestamp(value);
      if (timestamp === null) {
        throw badInput(`${filter.operator} on "${filter.field}" needs a date-time value such as "2024-05-01" or "2024-05-01T10:00:00Z" (ISO 8601; UTC unless an offset is given).`, 'where');
      }
      return timestamp;
    }
    const ok =
      (column.kind === 'numeric' && typeof value === 'number' && Number.isFinite(value)) ||
      (column.kind === 'boolean' && typeof value === 'boolean') ||
      (column.kind === 'text' && typeof value === 'string' && (!column.date || isIsoDate(value)));
    if (!ok) throw badInput(`${filter.operator} on "${filter.field}" needs ${column.date ? 'a date as YYYY-MM-DD' : `a ${column.kind} value`}.`, 'where');
    return value;
  }
}
