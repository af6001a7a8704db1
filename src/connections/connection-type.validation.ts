import { ErrorCode, UserError } from '../core/errors';
import { findModule } from '../records/modules';
import type { PropertyDefinition, PropertyType } from './connection-type.entity';
import { CONNECTABLE_MODULES } from './connection-type.types';

/** A connection type as it will be saved, before its checks. */
export interface ConnectionTypeDraft {
  name: string;
  inverseName?: string | null;
  symmetric: boolean;
  sourceModules: string[];
  targetModules: string[];
  allowSelf: boolean;
  properties: Array<{ key: string; label: string; type: string; required?: boolean | null; options?: string[] | null }>;
  active: boolean;
  contextModule?: string | null;
}

export interface CheckedConnectionType {
  name: string;
  inverseName: string;
  symmetric: boolean;
  sourceModules: string[];
  targetModules: string[];
  allowSelf: boolean;
  properties: PropertyDefinition[];
  active: boolean;
  contextModule: string | null;
}

const PROPERTY_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Checks a draft type, reporting every problem at once; module names come back in their canonical spelling. */
export function checkConnectionType(draft: ConnectionTypeDraft): { type: CheckedConnectionType; errors: UserError[] } {
  const errors: UserError[] = [];
  const name = draft.name.trim().replace(/\s+/g, ' ');
  if (!name) errors.push(new UserError(ErrorCode.REQUIRED, 'The name is required.', ['name']));
  let inverseName = (draft.inverseName ?? '').trim().replace(/\s+/g, ' ');
  if (draft.symmetric) {
    if (inverseName && inverseName.toLowerCase() !== name.toLowerCase()) {
      errors.push(new UserError(ErrorCode.INVALID, 'A symmetric type reads the same from both sides: leave inverseName out or equal to name.', ['inverseName']));
    }
    inverseName = name;
  } else if (!inverseName) {
    errors.push(new UserError(ErrorCode.REQUIRED, 'The inverse name (the label read from the target record) is required.', ['inverseName']));
  }
  const sourceModules = checkModules(draft.sourceModules, 'sourceModules', errors);
  const targetModules = checkModules(draft.targetModules, 'targetModules', errors);
  const properties = checkPropertyDefinitions(draft.properties, errors);
  let contextModule: string | null = null;
  if (draft.contextModule != null) {
    contextModule = findModule(String(draft.contextModule).trim())?.name ?? null;
    if (!contextModule) errors.push(new UserError(ErrorCode.INVALID, `There is no module "${draft.contextModule}".`, ['contextModule']));
  }
  return {
    type: { name, inverseName, symmetric: draft.symmetric, sourceModules, targetModules, allowSelf: draft.allowSelf, properties, active: draft.active, contextModule },
    errors,
  };
}

function checkModules(names: string[], field: string, errors: UserError[]): string[] {
  const modules: string[] = [];
  names.forEach((raw, i) => {
    const module = findModule(String(raw).trim());
    if (!module || !CONNECTABLE_MODULES.includes(module.name)) {
      errors.push(new UserError(ErrorCode.INVALID, `"${raw}" cannot be connected; the modules are ${CONNECTABLE_MODULES.join(', ')}.`, [field, String(i)]));
    } else if (!modules.includes(module.name)) {
      modules.push(module.name);
    }
  });
  if (names.length === 0) errors.push(new UserError(ErrorCode.REQUIRED, 'Name at least one module.', [field]));
  return modules;
}

function checkPropertyDefinitions(inputs: ConnectionTypeDraft['properties'], errors: UserError[]): PropertyDefinition[] {
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    const at = (part: string) => ['properties', String(i), part];
    const key = input.key.trim();
    if (!PROPERTY_KEY.test(key)) {
      errors.push(new UserError(ErrorCode.INVALID, `Property key "${input.key}" must start with a letter and hold only letters, digits and underscores (at most 64).`, at('key')));
    } else if (seen.has(key.toLowerCase())) {
      errors.push(new UserError(ErrorCode.TAKEN, `Property key "${key}" is used twice.`, at('key')));
    }
    seen.add(key.toLowerCase());
    const label = input.label.trim() || key;
    const type = input.type as PropertyType;
    const options = [...new Set((input.options ?? []).map((o) => o.trim()).filter(Boolean))];
    if (type === 'PICKLIST' && options.length === 0) {
      errors.push(new UserError(ErrorCode.REQUIRED, `Picklist property "${key}" needs at least one option.`, at('options')));
    }
    if (type !== 'PICKLIST' && input.options?.length) {
      errors.push(new UserError(ErrorCode.INVALID, `Only PICKLIST properties take options; "${key}" is ${type}.`, at('options')));
    }
    return { key, label, type, required: !!input.required, options: type === 'PICKLIST' ? options : [] };
  });
}
