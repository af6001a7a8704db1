import { ErrorCode, UserError } from '../core/errors';
import type { ModuleDefinition } from './modules';
import type { RecordEntity, RecordFields } from './record.entity';

/** At most this many records are merged into a survivor at once. */
export const MAX_MERGED_RECORDS = 10;
/** More choices than any module has fields is a mistake or an attack, refused before any lookup. */
export const MAX_FIELD_CHOICES = 100;

/** "Take `field` from record `fromId`" (the survivor or one of the merged records). */
export interface FieldChoice {
  field: string;
  fromId: string;
}

/** The shape checks of a merge that need no database: counts, repeats, the survivor among the merged. */
export function mergeArgumentErrors(survivorId: string, mergedIds: readonly string[], fieldChoices: readonly FieldChoice[]): UserError[] {
  const errors: UserError[] = [];
  if (fieldChoices.length > MAX_FIELD_CHOICES) {
    errors.push(new UserError(ErrorCode.LIMIT_REACHED, `A merge takes at most ${MAX_FIELD_CHOICES} field choices.`, ['fieldChoices']));
  }
  if (mergedIds.length === 0) errors.push(new UserError(ErrorCode.INVALID, 'Name at least one record to merge.', ['mergedIds']));
  if (mergedIds.length > MAX_MERGED_RECORDS) {
    errors.push(new UserError(ErrorCode.LIMIT_REACHED, `A merge takes at most ${MAX_MERGED_RECORDS} records.`, ['mergedIds']));
    return errors;
  }
  const seen = new Set<string>();
  mergedIds.forEach((id, i) => {
    const key = id.toLowerCase();
    if (key === survivorId.toLowerCase()) errors.push(new UserError(ErrorCode.INVALID, 'A record cannot be merged into itself.', ['mergedIds', String(i)]));
    else if (seen.has(key)) errors.push(new UserError(ErrorCode.INVALID, 'This record is named twice.', ['mergedIds', String(i)]));
    seen.add(key);
  });
  return errors;
}

/** Each merged record must exist, be live and be of the survivor's module. */
export function mergedRecordErrors(survivor: RecordEntity | null, mergedIds: readonly string[], found: Map<string, RecordEntity>): UserError[] {
  const errors: UserError[] = [];
  if (!survivor) errors.push(new UserError(ErrorCode.NOT_FOUND, 'No record has this id.', ['survivorId']));
  mergedIds.forEach((id, i) => {
    const record = found.get(id.toLowerCase());
    if (!record) errors.push(new UserError(ErrorCode.NOT_FOUND, 'No record has this id (or it was merged or deleted).', ['mergedIds', String(i)]));
    else if (survivor && record.module !== survivor.module) {
      errors.push(new UserError(ErrorCode.INVALID, `Only records of one module merge: this is a ${record.module} record, the survivor a ${survivor.module} one.`, ['mergedIds', String(i)]));
    }
  });
  return errors;
}

/**
 * The survivor's field change the choices make (a chosen record without the field clears it), and every bad choice:
 * a field the module lacks, a record not in the merge, a field chosen twice.
 */
export function applyFieldChoices(module: ModuleDefinition, survivor: RecordEntity, merged: Map<string, RecordEntity>, choices: readonly FieldChoice[]): { change: RecordFields; errors: UserError[] } {
  const change: RecordFields = {};
  const errors: UserError[] = [];
  const chosen = new Set<string>();
  choices.forEach((choice, i) => {
    const path = (key: string) => ['fieldChoices', String(i), key];
    const known = module.fields.some((f) => f.name === choice.field);
    if (!known) errors.push(new UserError(ErrorCode.UNKNOWN_FIELD, `${module.name} has no field "${choice.field}".`, path('field')));
    else if (chosen.has(choice.field)) errors.push(new UserError(ErrorCode.INVALID, `"${choice.field}" is chosen twice.`, path('field')));
    chosen.add(choice.field);
    const from = choice.fromId.toLowerCase() === survivor.id ? survivor : merged.get(choice.fromId.toLowerCase());
    if (!from) errors.push(new UserError(ErrorCode.INVALID, 'Choose the survivor or one of the merged records.', path('fromId')));
    else if (known && from !== survivor) change[choice.field] = from.fields[choice.field] ?? null;
  });
  return { change, errors };
}
