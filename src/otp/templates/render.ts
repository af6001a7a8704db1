import Handlebars from 'handlebars';

/** Variables every OTP message receives, whatever the caller passes. */
export const INJECTED_VARIABLES = ['otp', 'expiresInMinutes'];

/** The only helpers a template may use: no `log` (it writes to the server log), no `lookup`, no partials or decorators. */
export const ALLOWED_HELPERS = ['if', 'unless', 'each', 'with'];

/**
 * An isolated Handlebars environment holding only the allowed helpers (plus the two internal ones that resolve
 * ambiguous `{{name}}` and `{{#section}}`); nothing registered on the global Handlebars can reach a template.
 */
const engine = Handlebars.create();
for (const name of Object.keys(engine.helpers)) {
  if (!ALLOWED_HELPERS.includes(name) && name !== 'helperMissing' && name !== 'blockHelperMissing') engine.unregisterHelper(name);
}
for (const name of Object.keys(engine.partials)) engine.unregisterPartial(name);
for (const name of Object.keys(engine.decorators)) engine.unregisterDecorator(name);

/** Compile options: a call of any helper outside the allow-list is a compile error, not a runtime lookup. */
const COMPILE_OPTIONS = {
  strict: false,
  knownHelpersOnly: true,
  knownHelpers: { log: false, lookup: false, helperMissing: false, blockHelperMissing: false },
} as const;
/** Runtime options: properties and methods of prototypes (`constructor`, `__proto__`, ...) never resolve. */
const RUNTIME_OPTIONS = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false, allowCallsToHelperMissing: false };

/**
 * Why `text` may not be used as a template (it does not parse, or uses a helper, partial or decorator outside the
 * allow-list), worded to follow "The body ...", or null when it may. Checked when admins save templates and when a
 * caller gives a subject.
 */
export function templateProblem(text: string): string | null {
  let program: any;
  try {
    program = Handlebars.parse(text);
  } catch (error) {
    return `is not a valid template: ${(error as Error).message.split('\n')[0].replace(/:$/, '')}`;
  }
  const forbidden = findForbidden(program);
  if (forbidden) return forbidden;
  try {
    engine.precompile(text, COMPILE_OPTIONS);
  } catch (error) {
    const helper = /unknown helper (\S+)/.exec((error as Error).message)?.[1];
    return helper ? helperMessage(helper) : `not a valid template: ${(error as Error).message.split('\n')[0]}`;
  }
  return null;
}

/** Throws the problem `templateProblem` finds. */
export function checkTemplateSyntax(text: string): void {
  const problem = templateProblem(text);
  if (problem) throw new Error(problem);
}

function helperMessage(name: string): string {
  return `uses "${name}", which templates may not call; the helpers allowed are ${ALLOWED_HELPERS.join(', ')}`;
}

function findForbidden(node: any): string | null {
  if (!node || typeof node !== 'object') return null;
  if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') return 'uses a partial ({{> ...}}), which templates may not use';
  if (node.type === 'Decorator' || node.type === 'DecoratorBlock') return 'uses a decorator ({{* ...}}), which templates may not use';
  for (const value of Object.values(node)) {
    const found = Array.isArray(value) ? value.map(findForbidden).find(Boolean) ?? null : findForbidden(value);
    if (found) return found;
  }
  return null;
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

/** True when the template always prints the code: a top-level `{{otp}}` (or `{{{otp}}}`), not inside any block. */
export function printsCode(text: string): boolean {
  return Handlebars.parse(text).body.some((node: any) =>
    node.type === 'MustacheStatement' && node.path?.type === 'PathExpression' && !node.path.data && node.path.depth === 0
    && node.path.original === 'otp' && !node.params?.length && !node.hash?.pairs?.length);
}

/**
 * The full dotted paths a template reads, e.g. `otp`, `record.firstName`, `rule.name`, `change` — resolved through
 * `{{#with}}` blocks, `../` and `@root.`; inside `{{#each list}}` only `list` is known (its items' fields are not).
 * Helper names are not paths. Lets a caller (an OTP rule being saved) report a variable its data will not have.
 */
export function templatePaths(...texts: Array<string | null | undefined>): string[] {
  const paths = new Set<string>();
  for (const text of texts) if (text) new PathCollector(paths).program(Handlebars.parse(text), [{ prefix: '', params: new Map() }]);
  return [...paths];
}

/** A context a template is evaluated in: its path from the root (null: unknown, e.g. an `each` item) and block params. */
interface Scope {
  prefix: string | null;
  params: Map<string, string | null>;
}

class PathCollector {
  constructor(private readonly paths: Set<string>) {}

  program(node: any, scopes: Scope[]): void {
    for (const statement of node?.body ?? []) this.statement(statement, scopes);
  }

  private statement(node: any, scopes: Scope[]): void {
    if (node.type === 'MustacheStatement') this.call(node, scopes);
    else if (node.type === 'BlockStatement') this.block(node, scopes);
  }

  /** `{{name}}` reads a path; `{{helper arg key=value}}` reads its arguments. */
  private call(node: any, scopes: Scope[]): void {
    const isHelperCall = node.params?.length || node.hash?.pairs?.length || BUILT_IN_HELPERS.has(node.path?.original);
    if (!isHelperCall) this.expression(node.path, scopes);
    for (const param of node.params ?? []) this.expression(param, scopes);
    for (const pair of node.hash?.pairs ?? []) this.expression(pair.value, scopes);
  }

  private block(node: any, scopes: Scope[]): void {
    const name: string = node.path?.original;
    const [subject] = node.params ?? [];
    this.call(node, scopes);
    const subjectPath = subject?.type === 'PathExpression' ? this.resolve(subject, scopes) : null;
    const blockParams: string[] = node.program?.blockParams ?? [];
    let inner = scopes;
    if (name === 'with') inner = [...scopes, { prefix: subjectPath, params: new Map(blockParams.slice(0, 1).map((p) => [p, subjectPath])) }];
    else if (name === 'each') inner = [...scopes, { prefix: null, params: new Map(blockParams.map((p) => [p, null])) }];
    else if (!BUILT_IN_HELPERS.has(name)) inner = [...scopes, { prefix: null, params: new Map() }]; // a section: list or object, unknown
    this.program(node.program, inner);
    this.program(node.inverse, scopes);
  }

  private expression(node: any, scopes: Scope[]): void {
    if (node?.type === 'SubExpression') this.call(node, scopes);
    else if (node?.type === 'PathExpression') {
      const path = this.resolve(node, scopes);
      if (path) this.paths.add(path);
    }
  }

  /** The dotted path from the root, or null when it cannot be known (an `each` item, `@index`, ...). */
  private resolve(node: any, scopes: Scope[]): string | null {
    const parts: string[] = node.parts ?? [];
    if (node.data) return parts[0] === 'root' && parts.length > 1 ? parts.slice(1).join('.') : null;
    if (node.depth === 0 && parts.length) {
      for (let i = scopes.length - 1; i >= 0; i -= 1) {
        if (scopes[i].params.has(parts[0])) {
          const base = scopes[i].params.get(parts[0]);
          return base === null || base === undefined ? null : [base, ...parts.slice(1)].filter(Boolean).join('.') || null;
        }
      }
    }
    const scope = scopes[scopes.length - 1 - (node.depth ?? 0)];
    if (!scope || scope.prefix === null) return null;
    return [scope.prefix, ...parts].filter(Boolean).join('.') || null;
  }
}

const BUILT_IN_HELPERS = new Set([...ALLOWED_HELPERS, 'this']);

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
  return engine.compile(template, { ...COMPILE_OPTIONS, noEscape: true })(variables, RUNTIME_OPTIONS);
}

/** HTML bodies: every value is HTML-escaped. */
export function renderHtml(template: string, variables: Record<string, unknown>): string {
  return engine.compile(template, COMPILE_OPTIONS)(variables, RUNTIME_OPTIONS);
}
