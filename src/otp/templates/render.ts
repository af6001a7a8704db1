import Handlebars from 'handlebars';

/** Variables every OTP message receives, whatever the caller passes. */
export const INJECTED_VARIABLES = ['otp', 'expiresInMinutes'];

/** Throws Handlebars' own message when a template does not parse. */
export function checkTemplateSyntax(text: string): void {
  Handlebars.parse(text);
}

/** The `{{variables}}` a template reads (helpers' arguments included), so a send can name the missing ones before queuing. */
export function templateVariables(...texts: Array<string | null | undefined>): string[] {
  const names = new Set<string>();
  const visit = (node: any): void => {
    if (!node || typeof node !== 'object') return;
    if (node.type === 'PathExpression' && node.parts?.length && !node.data) names.add(node.parts[0]);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') visit(value);
    }
  };
  for (const text of texts) if (text) visitTemplate(text, (node) => visit(node));
  return [...names].filter((name) => !BUILT_IN_HELPERS.has(name));
}

const BUILT_IN_HELPERS = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log', 'this']);

function visitTemplate(text: string, visit: (node: unknown) => void): void {
  const program = Handlebars.parse(text);
  // Helper names are paths too; only the heads of mustaches/blocks with params are helpers.
  const strip = (node: any): void => {
    if (!node || typeof node !== 'object') return;
    if ((node.type === 'MustacheStatement' || node.type === 'BlockStatement' || node.type === 'SubExpression') && node.params?.length) {
      node.path = null;
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(strip);
      else if (value && typeof value === 'object') strip(value);
    }
  };
  strip(program);
  visit(program);
}

/** Plain text (SMS, WhatsApp, subjects, text bodies): values are inserted as they are. */
export function renderText(template: string, variables: Record<string, unknown>): string {
  return Handlebars.compile(template, { noEscape: true, strict: false })(variables);
}

/** HTML bodies: every value is HTML-escaped. */
export function renderHtml(template: string, variables: Record<string, unknown>): string {
  return Handlebars.compile(template, { strict: false })(variables);
}
