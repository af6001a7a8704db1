import { ErrorCode, UserError } from '../common/errors';
import { isIsoDate } from '../records/record.validation';
import type { FieldDefinition, ModuleDefinition } from '../records/modules';
import type { RecordFields } from '../records/record.entity';
import type { ConditionOperator, RuleCondition, RuleConditionGroup } from './otp-rule.entity';

const NO_VALUE: ConditionOperator[] = ['IS_EMPTY', 'IS_NOT_EMPTY', 'HAS_CHANGED'];
const ORDERED: ConditionOperator[] = ['GREATER_THAN', 'LESS_THAN'];
const TEXTUAL: ConditionOperator[] = ['CONTAINS', 'STARTS_WITH'];

/** Checks conditions against the module's fields and each operator's value type; every problem is reported. */
export function checkConditions(module: ModuleDefinition, groups: RuleConditionGroup[]): UserError[] {
  const errors: UserError[] = [];
  if (groups.reduce((n, g) => n + g.conditions.length, 0) === 0) {
    errors.push(new UserError(ErrorCode.REQUIRED, 'A rule needs at least one condition.', ['conditions']));
  }
  groups.forEach((group, g) => group.conditions.forEach((condition, c) => {
    const field = ['conditions', String(g), 'conditions', String(c)];
    const definition = module.fields.find((f) => f.name === condition.field);
    if (!definition) {
      errors.push(new UserError(ErrorCode.UNKNOWN_FIELD, `${module.name} has no field "${condition.field}".`, [...field, 'field']));
      return;
    }
    const problem = valueProblem(definition, condition);
    if (problem) errors.push(new UserError(ErrorCode.INVALID, `${definition.label}: ${problem}`, [...field, 'value']));
  }));
  return errors;
}

function valueProblem(definition: FieldDefinition, { operator, value }: RuleCondition): string | null {
  if (NO_VALUE.includes(operator)) return value == null ? null : `${operator} takes no value.`;
  if (value == null) return `${operator} needs a value.`;
  if (ORDERED.includes(operator)) {
    if (['number', 'currency'].includes(definition.type)) return typeof value === 'number' ? null : `${operator} needs a number.`;
    if (definition.type === 'date') return typeof value === 'string' && isIsoDate(value) ? null : `${operator} needs a date as YYYY-MM-DD.`;
    return `${operator} applies to number, currency and date fields only.`;
  }
  if (TEXTUAL.includes(operator)) {
    return typeof value === 'string' && !['number', 'currency', 'boolean'].includes(definition.type) ? null : `${operator} needs a text field and a text value.`;
  }
  switch (definition.type) {
    case 'number':
    case 'currency': return typeof value === 'number' ? null : 'the value must be a number.';
    case 'boolean': return typeof value === 'boolean' ? null : 'the value must be true or false.';
    case 'date': return typeof value === 'string' && isIsoDate(value) ? null : 'the value must be a date as YYYY-MM-DD.';
    case 'picklist': return typeof value === 'string' && definition.values!.includes(value) ? null : `the value must be one of: ${definition.values!.join(', ')}.`;
    default: return typeof value === 'string' ? null : 'the value must be text.';
  }
}

export type CompiledConditions = (before: RecordFields, after: RecordFields) => boolean;

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';
const same = (a: unknown, b: unknown) => (isEmpty(a) && isEmpty(b)) || a === b;
const text = (v: unknown) => (isEmpty(v) ? '' : String(v).toLowerCase());

/** Turns stored conditions into one function, so checking a save costs no parsing. */
export function compileConditions(groups: RuleConditionGroup[]): CompiledConditions {
  const compiled = groups.map((group) => {
    const tests = group.conditions.map(compileCondition);
    return group.match === 'ALL'
      ? (before: RecordFields, after: RecordFields) => tests.every((t) => t(before, after))
      : (before: RecordFields, after: RecordFields) => tests.some((t) => t(before, after));
  });
  return (before, after) => compiled.every((g) => g(before, after));
}

function compileCondition({ field, operator, value }: RuleCondition): CompiledConditions {
  const lowered = text(value);
  switch (operator) {
    case 'EQUALS': return (_b, a) => (typeof value === 'string' ? text(a[field]) === lowered : a[field] === value);
    case 'NOT_EQUALS': return (_b, a) => (typeof value === 'string' ? text(a[field]) !== lowered : a[field] !== value);
    case 'CONTAINS': return (_b, a) => text(a[field]).includes(lowered);
    case 'STARTS_WITH': return (_b, a) => text(a[field]).startsWith(lowered);
    case 'GREATER_THAN': return (_b, a) => !isEmpty(a[field]) && (a[field] as number | string) > (value as number | string);
    case 'LESS_THAN': return (_b, a) => !isEmpty(a[field]) && (a[field] as number | string) < (value as number | string);
    case 'IS_EMPTY': return (_b, a) => isEmpty(a[field]);
    case 'IS_NOT_EMPTY': return (_b, a) => !isEmpty(a[field]);
    case 'HAS_CHANGED': return (b, a) => !same(b[field], a[field]);
    case 'HAS_CHANGED_TO': return (b, a) => !same(b[field], a[field]) && same(a[field], value);
    case 'HAS_CHANGED_FROM': return (b, a) => !same(b[field], a[field]) && same(b[field], value);
  }
}
