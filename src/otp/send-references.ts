import { ErrorCode } from '../core/errors';
import { isUuid } from '../core/ids';
import type { MessageTemplateService } from './templates/message-template.service';
import { INJECTED_VARIABLES, templateProblem, templateVariables } from './templates/render';
import { MAX_INTEGER, type FieldError, type SendOtpRequest } from './otp.validation';

/**
 * The references a send may carry, by the type of their value: only the feature owning the referenced thing can vouch
 * for it (a rule: the arrows point from otp-rules to otp; a record: its table belongs to records).
 */
export interface ReferenceValues {
  ruleId: number;
  recordId: string;
}
export type ReferenceKey = keyof ReferenceValues;
/** True when the referenced thing exists. */
export type ReferenceCheck<K extends ReferenceKey> = (value: ReferenceValues[K]) => Promise<boolean>;
export type ReferenceChecks = { [K in ReferenceKey]?: ReferenceCheck<K> };

/**
 * The checks of a send that need the database: the email template and the variables it needs, the rule and the
 * record a send refers to. They run even when other fields failed, so every error comes back at once.
 */
export class SendReferences {
  private readonly checks: ReferenceChecks = {};

  constructor(private readonly templates: Pick<MessageTemplateService, 'get'>) {}

  /** A reference nobody registered a check for is refused: nothing can vouch for it. */
  register<K extends ReferenceKey>(key: K, check: NonNullable<ReferenceChecks[K]>): void {
    this.checks[key] = check;
  }

  async errors(request: SendOtpRequest): Promise<FieldError[]> {
    const errors = await this.templateErrors(request);
    const ruleId = integerOf(request.ruleId);
    if (ruleId !== null) {
      const exists = this.checks.ruleId;
      if (!exists || !(await exists(ruleId))) errors.push({ field: ['ruleId'], message: 'The selected rule id is invalid.', code: ErrorCode.INVALID });
    }
    if (isUuid(request.recordId)) {
      const exists = this.checks.recordId;
      if (!exists || !(await exists(request.recordId))) errors.push({ field: ['recordId'], message: 'The selected record id is invalid.', code: ErrorCode.INVALID });
    }
    return errors;
  }

  private async templateErrors(request: SendOtpRequest): Promise<FieldError[]> {
    const templateId = typeof request.emailTemplateId === 'string' ? request.emailTemplateId.trim() : '';
    if (!templateId || templateId.includes('\u0000')) return []; // the validator reports a NUL; Postgres would refuse it
    const template = await this.templates.get(templateId.slice(0, 64));
    const unknown: FieldError = { field: ['emailTemplateId'], message: 'The selected email template id is invalid.', code: ErrorCode.INVALID };
    if (template?.channel !== 'EMAIL') return [unknown];
    // a stored template saved before the helper allow-list and using a forbidden helper is refused here, before anything is queued
    if ([template.subject, template.body, template.htmlBody].some((text) => text && templateProblem(text))) return [unknown];
    // the validator reports a caller subject that may not be a template
    const subject = typeof request.emailSubject === 'string' && templateProblem(request.emailSubject) === null ? request.emailSubject : null;
    const attributes = request.emailTemplateAttributes;
    const given = attributes && typeof attributes === 'object' ? Object.keys(attributes) : [];
    return templateVariables(template.subject, template.body, template.htmlBody, subject)
      .filter((name) => !INJECTED_VARIABLES.includes(name) && !given.includes(name))
      .map((name) => ({ field: ['emailTemplateAttributes', name], message: `The email template attributes.${name} field is required.`, code: ErrorCode.REQUIRED }));
  }
}

/** A positive 32-bit integer as the validator accepts it (a number or a string of digits); null otherwise. */
function integerOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= MAX_INTEGER ? n : null;
}
