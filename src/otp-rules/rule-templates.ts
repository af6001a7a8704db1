import { ErrorCode, UserError } from '../core/errors';
import type { Queryable } from '../db/sql';
import type { ModuleDefinition } from '../records/modules';
import type { RecordEntity } from '../records/record.entity';
import { INJECTED_VARIABLES, templatePaths } from '../otp/templates/render';
import type { OtpRuleEntity } from './otp-rule.entity';

type Channel = 'EMAIL' | 'SMS' | 'WHATSAPP';
type TemplateField = 'emailTemplateId' | 'smsTemplateId' | 'whatsappTemplateId';

/** The template each channel uses when the rule names none (seeded by the OtpRuleTemplates migration). */
export const RULE_TEMPLATE_DEFAULTS: Record<Channel, string> = { EMAIL: 'otp_rule_email', SMS: 'otp_rule_sms', WHATSAPP: 'otp_whatsapp' };
const FIELD_OF: Record<Channel, TemplateField> = { EMAIL: 'emailTemplateId', SMS: 'smsTemplateId', WHATSAPP: 'whatsappTemplateId' };

/** The template ids a rule's send passes, per channel. */
export function ruleTemplateIds(rule: OtpRuleEntity): Record<Channel, string> {
  return {
    EMAIL: rule.emailTemplateId ?? RULE_TEMPLATE_DEFAULTS.EMAIL,
    SMS: rule.smsTemplateId ?? RULE_TEMPLATE_DEFAULTS.SMS,
    WHATSAPP: rule.whatsappTemplateId ?? RULE_TEMPLATE_DEFAULTS.WHATSAPP,
  };
}

/** What a rule's templates can read: the record (its fields, id, label, module), the rule, the change, the code. */
export function ruleMessageVariables(module: ModuleDefinition, rule: OtpRuleEntity, record: RecordEntity, change: string): Record<string, unknown> {
  return {
    record: { ...record.fields, id: record.id, label: record.label, module: module.singular },
    rule: { id: rule.id, name: rule.name },
    change,
  };
}

/**
 * Checks the templates a rule names when the rule is saved: each exists, is of its channel, and reads only variables
 * the rule can give — so a message never goes out with a blank where a name should be.
 */
export async function ruleTemplateErrors(q: Queryable, rule: OtpRuleEntity, module: ModuleDefinition): Promise<UserError[]> {
  const errors: UserError[] = [];
  for (const channel of Object.keys(FIELD_OF) as Channel[]) {
    const field = FIELD_OF[channel];
    const id = rule[field];
    if (!id) continue;
    const [template] = await q.query('SELECT channel, subject, body, html_body FROM message_templates WHERE id = $1', [id]);
    if (!template) {
      errors.push(new UserError(ErrorCode.NOT_FOUND, `There is no ${channel} template "${id}".`, [field]));
      continue;
    }
    if (template.channel !== channel) {
      errors.push(new UserError(ErrorCode.INVALID, `"${id}" is a ${template.channel} template; ${field} needs a ${channel} template.`, [field]));
      continue;
    }
    const unknown = templatePaths(template.subject, template.body, template.html_body).filter((path) => !readable(path, module));
    if (unknown.length) {
      errors.push(new UserError(
        ErrorCode.INVALID,
        `Template "${id}" uses ${unknown.map((p) => `{{${p}}}`).join(', ')}, which rule messages cannot fill: use {{record.<a ${module.name} field>}}, {{record.label}}, {{record.module}}, {{rule.name}}, {{change}}, {{otp}} or {{expiresInMinutes}}.`,
        [field],
        { unknownVariables: unknown },
      ));
    }
  }
  return errors;
}

function readable(path: string, module: ModuleDefinition): boolean {
  const [head, name, ...deeper] = path.split('.');
  if (deeper.length) return false;
  if (name === undefined) return INJECTED_VARIABLES.includes(head) || head === 'change' || head === 'record' || head === 'rule';
  if (head === 'record') return ['id', 'label', 'module'].includes(name) || module.fields.some((f) => f.name === name);
  if (head === 'rule') return ['id', 'name'].includes(name);
  return false;
}
