import { ErrorCode, UserError } from '../core/errors';
import { isUuid } from '../core/ids';
import type { FieldDefinition, ModuleDefinition } from './modules';
import type { RecordFields } from './record.entity';
import { isEmailAddress } from '../core/email';

const PHONE = /^\+?[0-9][0-9 ()\-.]{5,24}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DEFAULT_TEXT_LIMIT = 255;

export interface FieldCheck {
  /** Fields after the change, normalised; a `null` in the change removes the field. */
  fields: RecordFields;
  errors: UserError[];
  /** Reference field values that must name existing records of the given modules. */
  references: Array<{ field: string; id: string; modules: string[] }>;
}

/**
 * Checks a change to a record's fields against its module, reporting every bad field at once.
 * `current` holds the saved fields on update (mandatory fields may then be omitted from the change).
 */
export function checkFields(module: ModuleDefinition, change: unknown, current: RecordFields = {}): FieldCheck {
  const errors: UserError[] = [];
  const references: FieldCheck['references'] = [];
  if (change === null || typeof change !== 'object' || Array.isArray(change)) {
    return { fields: current, errors: [new UserError(ErrorCode.INVALID, 'The fields must be a JSON object.', ['fields'])], references };
  }
  const fields: RecordFields = { ...current };
  for (const [name, raw] of Object.entries(change as Record<string, unknown>)) {
    const definition = module.fields.find((f) => f.name === name);
    if (!definition) {
      errors.push(new UserError(ErrorCode.UNKNOWN_FIELD, `${module.name} has no field "${name}".`, ['fields', name]));
      continue;
    }
    if (raw === null || raw === '') {
      delete fields[name];
      continue;
    }
    const result = normaliseValue(definition, raw);
    if ('error' in result) {
      errors.push(new UserError(ErrorCode.INVALID, `${definition.label} ${result.error}`, ['fields', name]));
      continue;
    }
    fields[name] = result.value;
    if (definition.type === 'reference') references.push({ field: name, id: result.value as string, modules: definition.references ?? [] });
  }
  for (const definition of module.fields) {
    if (definition.mandatory && (fields[definition.name] === undefined) && !errors.some((e) => e.field?.[1] === definition.name)) {
      errors.push(new UserError(ErrorCode.REQUIRED, `${definition.label} is required.`, ['fields', definition.name]));
    }
  }
  return { fields, errors, references };
}

type Normalised = { value: unknown } | { error: string };

function normaliseValue(definition: FieldDefinition, raw: unknown): Normalised {
  switch (definition.type) {
    case 'text': {
      if (typeof raw !== 'string') return { error: 'must be text.' };
      const limit = definition.maxLength ?? DEFAULT_TEXT_LIMIT;
      const value = raw.trim();
      return value.length > limit ? { error: `must be at most ${limit} characters.` } : { value };
    }
    case 'email': {
      if (typeof raw !== 'string') return { error: 'must be an email address.' };
      const value = raw.trim();
      return isEmailAddress(value) ? { value } : { error: 'must be a valid email address.' };
    }
    case 'phone': {
      if (typeof raw !== 'string') return { error: 'must be a phone number given as text.' };
      const value = raw.trim();
      return PHONE.test(value) ? { value } : { error: 'must be a phone number (digits, optionally starting with +).' };
    }
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? { value: raw } : { error: 'must be a number.' };
    case 'currency':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return { error: 'must be an amount.' };
      return Math.round(raw * 100) / 100 === raw ? { value: raw } : { error: 'must have at most two decimals.' };
    case 'date':
      return typeof raw === 'string' && isIsoDate(raw) ? { value: raw } : { error: 'must be a date as YYYY-MM-DD.' };
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : { error: 'must be true or false.' };
    case 'picklist':
      return typeof raw === 'string' && definition.values!.includes(raw)
        ? { value: raw }
        : { error: `must be one of: ${definition.values!.join(', ')}.` };
    case 'reference':
      return isUuid(raw) ? { value: raw.toLowerCase() } : { error: 'must be the id of a record.' };
  }
}

export function isIsoDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}
