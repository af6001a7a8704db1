import { ErrorCode, UserError } from '../core/errors';
import { isIsoDate } from '../records/record.validation';
import type { PropertyDefinition } from './connection-type.entity';
import type { ConnectionProperties } from './connection.entity';

const TEXT_LIMIT = 1000;

/**
 * Checks a change to a connection's properties against its type's definitions, reporting every bad one at once.
 * A `null` in the change removes the key; `current` holds the saved properties on update.
 */
export function checkProperties(
  definitions: PropertyDefinition[], change: unknown, current: ConnectionProperties = {},
): { properties: ConnectionProperties; errors: UserError[] } {
  const errors: UserError[] = [];
  if (change === null || typeof change !== 'object' || Array.isArray(change)) {
    return { properties: current, errors: [new UserError(ErrorCode.INVALID, 'The properties must be a JSON object.', ['properties'])] };
  }
  const properties: ConnectionProperties = { ...current };
  for (const [key, raw] of Object.entries(change as Record<string, unknown>)) {
    const definition = definitions.find((d) => d.key === key);
    if (!definition) {
      errors.push(new UserError(ErrorCode.UNKNOWN_FIELD, `This connection type has no property "${key}".`, ['properties', key]));
      continue;
    }
    if (raw === null || raw === '') {
      delete properties[key];
      continue;
    }
    const problem = problemWith(definition, raw);
    if (problem) errors.push(new UserError(ErrorCode.INVALID, `${definition.label} ${problem}`, ['properties', key]));
    else properties[key] = typeof raw === 'string' ? raw.trim() : raw;
  }
  for (const definition of definitions) {
    if (definition.required && properties[definition.key] === undefined && !errors.some((e) => e.field?.[1] === definition.key)) {
      errors.push(new UserError(ErrorCode.REQUIRED, `${definition.label} is required.`, ['properties', definition.key]));
    }
  }
  return { properties, errors };
}

function problemWith(definition: PropertyDefinition, raw: unknown): string | null {
  switch (definition.type) {
    case 'TEXT':
      if (typeof raw !== 'string') return 'must be text.';
      return raw.trim().length > TEXT_LIMIT ? `must be at most ${TEXT_LIMIT} characters.` : null;
    case 'NUMBER':
      return typeof raw === 'number' && Number.isFinite(raw) ? null : 'must be a number.';
    case 'DATE':
      return typeof raw === 'string' && isIsoDate(raw) ? null : 'must be a date as YYYY-MM-DD.';
    case 'BOOLEAN':
      return typeof raw === 'boolean' ? null : 'must be true or false.';
    case 'PICKLIST':
      return typeof raw === 'string' && definition.options.includes(raw.trim()) ? null : `must be one of: ${definition.options.join(', ')}.`;
  }
}
