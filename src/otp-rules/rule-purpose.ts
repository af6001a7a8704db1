import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import type { ModuleDefinition } from '../records/modules';
import type { RecordFields } from '../records/record.entity';
import { checkFields } from '../records/record.validation';
import { isEmpty } from './conditions';
import type { OtpRuleEntity } from './otp-rule.entity';

/**
 * Purpose binding: an OTP sent for a known change carries the target values of the rule's condition fields, and only
 * a save reaching those values may use it. The fields a rule looks at are the only ones it guards, so only they bind.
 */
export function conditionFields(rule: OtpRuleEntity): string[] {
  return [...new Set(rule.conditions.flatMap((group) => group.conditions.map((c) => c.field)))];
}

/** Bound fields: the rule's condition fields and its recipient field (a code never moves its own recipient unasked). */
export function boundFields(rule: OtpRuleEntity): string[] {
  return [...new Set([...conditionFields(rule), ...(rule.recipientField ? [rule.recipientField] : [])])];
}

/** Whether a save moves the rule's recipient field away from a value it had (setting a first value is not a move). */
export function changesRecipient(rule: OtpRuleEntity, before: RecordFields, after: RecordFields): boolean {
  if (!rule.recipientField || isEmpty(before[rule.recipientField])) return false;
  return canonical(before[rule.recipientField]) !== canonical(after[rule.recipientField]);
}

/** The values the rule's bound fields take after the intended save (null = empty). */
export function intendedTargets(rule: OtpRuleEntity, after: RecordFields): Record<string, unknown> {
  return Object.fromEntries(boundFields(rule).map((field) => [field, isEmpty(after[field]) ? null : after[field]]));
}

/** Whether a save's result reaches the targets an OTP was sent for (emptiness and text as the rule's conditions see them). */
export function reachesTargets(intended: Record<string, unknown>, after: RecordFields): boolean {
  return Object.entries(intended).every(([field, value]) => canonical(value) === canonical(after[field]));
}

/** "status to Paid, total to 1200": the condition fields the change moves, for messages (empty when none move). */
export function describeChange(module: ModuleDefinition, rule: OtpRuleEntity, before: RecordFields, targets: Record<string, unknown> | null): string {
  if (!targets) return '';
  return Object.entries(targets)
    .filter(([field, value]) => canonical(before[field]) !== canonical(value))
    .map(([field, value]) => {
      const label = (module.fields.find((f) => f.name === field)?.label ?? field).toLowerCase();
      return isEmpty(value) ? `${label} to empty` : `${label} to ${String(value)}`;
    })
    .join(', ');
}

/**
 * Validates a change given to sendRuleOtp(intendedFields:) like a save would (every failing field at once, under
 * `intendedFields`), and returns the record's fields after it. `enters` says whether such a save needs this rule's OTP.
 */
export function applyIntendedChange(module: ModuleDefinition, rule: OtpRuleEntity, before: RecordFields, change: unknown,
  enters: (before: RecordFields, after: RecordFields) => boolean): RecordFields {
  const check = checkFields(module, change, before);
  const errors = check.errors.map((e) => new UserError(e.code as ErrorCode, e.message, ['intendedFields', ...(e.field ?? []).slice(1)], e.details));
  if (errors.length) throw new UserErrorException(errors);
  if (!enters(before, check.fields) && !changesRecipient(rule, before, check.fields)) {
    throw UserErrorException.of(ErrorCode.INVALID, `This change neither matches OTP rule ${rule.id} "${rule.name}" nor changes its recipient, so it needs no OTP of this rule.`, ['intendedFields']);
  }
  return check.fields;
}

function canonical(value: unknown): string {
  if (isEmpty(value)) return '';
  return typeof value === 'string' ? `s:${value.trim().toLowerCase()}` : `${typeof value}:${JSON.stringify(value)}`;
}
