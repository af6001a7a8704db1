import { getMetadataStorage, validateOrReject, type ValidatorOptions } from 'class-validator';
import { LRUCache } from 'lru-cache';
import { ArgumentValidationError, type ValidatorFn } from 'type-graphql';

/** type-graphql's own defaults for class-validator, kept: missing (optional) properties skipped, unknown values allowed. */
const OPTIONS: ValidatorOptions = { skipMissingProperties: true, forbidUnknownValues: false };

/** Per argument class: whether class-validator has anything to check on it (its own or inherited decorators). */
const hasRules = new WeakMap<Function, boolean>();
/**
 * Argument values already found valid, by class and value: `{ first: 6 }` of a record's `connections` is checked once,
 * not once per record of a page. Only flat values (every property a string, number, boolean or null) are kept: the
 * decorators we use (Min, Max, MaxLength, …) are pure functions of such values. Refusals are never kept.
 */
const passed = new LRUCache<string, true>({ max: 2_000, maxSize: 1_000_000, sizeCalculation: (_value, key) => key.length + 1 });
const classIds = new WeakMap<Function, number>();
let nextClassId = 1;

/**
 * type-graphql's `validateFn`: class-validator as type-graphql runs it (same options, same ArgumentValidationError), but
 * not at all for an argument class without a single validation decorator (SendOtpInput, VerifyOtpInput…: their
 * services validate every field at once, and class-validator's walk found nothing on every request), and once per
 * distinct flat value for the rest.
 */
export const validateArgument: ValidatorFn = async (value, type) => {
  if (value === null || typeof value !== 'object') return;
  const items: object[] = Array.isArray(value) ? value.filter((v) => v !== null && typeof v === 'object') : [value];
  for (const item of items) {
    // a scalar's value (JSON: a plain or null-prototype object) has no class, so nothing class-validator could check
    const target: unknown = typeof type === 'function' && item instanceof type ? type : item.constructor;
    if (typeof target !== 'function' || !validatedClass(target)) continue;
    const key = flatKey(target, item);
    if (key !== null && passed.has(key)) continue;
    try {
      await validateOrReject(item, OPTIONS);
    } catch (errors) {
      throw new ArgumentValidationError(errors as never);
    }
    if (key !== null) passed.set(key, true);
  }
};

function validatedClass(target: Function): boolean {
  let answer = hasRules.get(target);
  if (answer === undefined) {
    answer = getMetadataStorage().getTargetValidationMetadatas(target, '', true, false).length > 0;
    hasRules.set(target, answer);
  }
  return answer;
}

function flatKey(target: Function, item: object): string | null {
  const values: unknown[] = [];
  for (const [name, v] of Object.entries(item)) {
    const flat = v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!flat) return null;
    values.push(name, v === undefined ? null : v);
  }
  let id = classIds.get(target);
  if (id === undefined) classIds.set(target, (id = nextClassId++));
  return `${id}\u0000${JSON.stringify(values)}`;
}
