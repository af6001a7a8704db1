import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const SRC = resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Each table and the one feature folder allowed to name it; other features call that feature's service. */
const TABLE_OWNERS: Record<string, string> = {
  records: 'records',
  otp_requests: 'otp',
};

/** `file:line` for every place outside the owner's folder that names the table in SQL or as a quoted table name. */
function trespasses(table: string, owner: string): string[] {
  const naming = new RegExp(`\\b(FROM|JOIN|UPDATE|INTO|TABLE)\\s+"?${table}\\b|'${table}'`);
  return sourceFiles(SRC)
    .filter((file) => !relative(SRC, file).startsWith(`${owner}/`))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n')
      .flatMap((line, i) => (naming.test(line) ? [`${relative(SRC, file)}:${i + 1}`] : [])));
}

/** Every src file's src imports, type-only ones included (they tie the modules together for a reader all the same). */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles(SRC);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .filter((i) => i.fileName.startsWith('.'))
      .map((i) => resolve(dirname(file), i.fileName))
      .flatMap((base) => [`${base}.ts`, join(base, 'index.ts')].filter((candidate) => known.has(candidate)).slice(0, 1));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One cycle per strongly connected component of more than one file (or a file importing itself), as relative paths. */
function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.get(file)!.includes(file)) components.push(component);
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return components.map((component) => cycleWithin(graph, new Set(component)).map((file) => relative(SRC, file)));
}

/** A shortest path from the component's first file back to itself, staying inside the component. */
function cycleWithin(graph: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const next of graph.get(file)!.filter((n) => component.has(n))) {
      if (next === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start];
}

/** Cycles not yet removed; only removals are welcome here: a new cycle fails the test. */
const KNOWN_CYCLES: string[] = [];

describe('a maintainer following imports', () => {
  test('never walks in a circle among src files (type-only imports included)', () => {
    const cycles = importCycles(importGraph()).map((cycle) => cycle.join(' → '));
    expect(cycles.filter((cycle) => !KNOWN_CYCLES.includes(cycle))).toEqual([]);
  });

  test('the scan itself sees a circle when there is one', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(importCycles(graph)).toEqual([[relative(SRC, 'a'), relative(SRC, 'b'), relative(SRC, 'c'), relative(SRC, 'a')]]);
  });
});

/** The processes' own entry points: the only files outside src/app that may import it. */
const ENTRY_POINTS = ['main.ts', 'worker.ts', 'cli.ts', 'db/migration-cli.ts'];
const FEATURES = ['auth', 'records', 'otp', 'otp-rules', 'connections'];

/** The folder (feature, `core`, `app`, `db`) a src-relative path lives in; '' for a file at the top of src. */
const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

interface ImportRule {
  /** The rule in words, as docs/architecture.md states it. */
  rule: string;
  forbids: (from: string, to: string) => boolean;
}

/** Who may import whom (docs/architecture.md, "Who may import whom"); each pair is src-relative. */
const IMPORT_RULES: ImportRule[] = [
  {
    rule: 'nothing outside src/app imports src/app, except the entry points (main, worker, cli, db/migration-cli)',
    forbids: (from, to) => folderOf(to) === 'app' && folderOf(from) !== 'app' && !ENTRY_POINTS.includes(from),
  },
  {
    rule: 'src/core imports no feature, app or db (the acting user\'s type, auth/user.entity, is the one exception)',
    forbids: (from, to) => folderOf(from) === 'core' && !['core', ''].includes(folderOf(to)) && to !== 'auth/user.entity.ts',
  },
  {
    rule: "a feature never imports another feature's *.repository.ts (it calls that feature's service)",
    forbids: (from, to) => FEATURES.includes(folderOf(from)) && FEATURES.includes(folderOf(to))
      && folderOf(from) !== folderOf(to) && to.endsWith('.repository.ts'),
  },
  {
    rule: 'otp and records import nothing from otp-rules or connections',
    forbids: (from, to) => ['otp', 'records'].includes(folderOf(from)) && ['otp-rules', 'connections'].includes(folderOf(to)),
  },
  {
    rule: 'records imports nothing from otp',
    forbids: (from, to) => folderOf(from) === 'records' && folderOf(to) === 'otp',
  },
  {
    rule: "only src/features.ts imports a feature's feature.ts, and only src/app and db/entities.ts import src/features.ts",
    forbids: (from, to) => (to.endsWith('/feature.ts') && folderOf(to) !== 'core' && from !== 'features.ts')
      || (to === 'features.ts' && folderOf(from) !== 'app' && from !== 'db/entities.ts'),
  },
];

/** Every `from → to` import the rule forbids, src-relative, in a stable order. */
function brokenBy(rule: ImportRule, graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([from, targets]) => targets
    .map((to) => [relative(SRC, from), relative(SRC, to)])
    .filter(([f, t]) => rule.forbids(f, t))
    .map(([f, t]) => `${f} → ${t}`)).sort();
}

describe('a maintainer adding an import that points the wrong way', () => {
  const graph = importGraph();

  test.each(IMPORT_RULES.map((r) => [r.rule, r] as const))('%s', (_, rule) => {
    const broken = brokenBy(rule, graph);
    if (broken.length) throw new Error(`Import rule broken: ${rule.rule}\n${broken.map((b) => `  ${b}`).join('\n')}`);
  });

  test('each rule catches the import it forbids and lets the allowed ones through', () => {
    const at = (...files: string[]) => files.map((f) => join(SRC, f));
    const bad = new Map([
      [join(SRC, 'otp/otp.resolver.ts'), at('app/context.ts', 'records/record.repository.ts', 'otp-rules/otp-rule.cache.ts')],
      [join(SRC, 'records/record.service.ts'), at('otp/otp.service.ts', 'connections/connection.service.ts', 'core/errors.ts')],
      [join(SRC, 'core/errors.ts'), at('records/record.entity.ts', 'auth/user.entity.ts')],
      [join(SRC, 'main.ts'), at('app/server.ts')],
      [join(SRC, 'app/server.ts'), at('otp/otp-request.repository.ts', 'otp/feature.ts', 'features.ts')],
      [join(SRC, 'otp-rules/feature.ts'), at('otp/feature.ts', 'features.ts', 'core/feature.ts')],
      [join(SRC, 'features.ts'), at('otp/feature.ts')],
      [join(SRC, 'db/entities.ts'), at('features.ts')],
    ]);
    expect(IMPORT_RULES.map((rule) => brokenBy(rule, bad))).toEqual([
      ['otp/otp.resolver.ts → app/context.ts'],
      ['core/errors.ts → records/record.entity.ts'],
      ['otp/otp.resolver.ts → records/record.repository.ts'],
      ['otp/otp.resolver.ts → otp-rules/otp-rule.cache.ts', 'records/record.service.ts → connections/connection.service.ts'],
      ['records/record.service.ts → otp/otp.service.ts'],
      ['app/server.ts → otp/feature.ts', 'otp-rules/feature.ts → features.ts', 'otp-rules/feature.ts → otp/feature.ts'],
    ]);
  });
});

describe('a feature reaching into a table it does not own', () => {
  test.each(Object.entries(TABLE_OWNERS))('the %s table is named only in src/%s/; the others go through its service', (table, owner) => {
    expect(trespasses(table, owner)).toEqual([]);
  });
});

/** Where a GraphQLError may be made: the API edge (app/, resolvers, the REST door, which reads the one context errors). */
const GRAPHQL_ERROR_EDGE = (file: string) => folderOf(file) === 'app' || file.endsWith('.resolver.ts') || file.startsWith('otp/rest/');

/** Whether the source imports or re-exports `GraphQLError` from 'graphql' (by name, renamed, type-only or through `import * as`). */
function importsGraphQLError(source: string): boolean {
  const file = ts.createSourceFile('scanned.ts', source, ts.ScriptTarget.Latest);
  return file.statements.some((statement) => {
    if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))) return false;
    if (!statement.moduleSpecifier || !ts.isStringLiteral(statement.moduleSpecifier) || statement.moduleSpecifier.text !== 'graphql') return false;
    const names = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : statement.exportClause;
    if (!names) return ts.isExportDeclaration(statement); // `export * from 'graphql'`
    if (ts.isNamespaceImport(names)) return /\.\s*GraphQLError\b/.test(source.slice(statement.end));
    if (ts.isNamespaceExport(names)) return true;
    return names.elements.some((element) => (element.propertyName ?? element.name).text === 'GraphQLError');
  });
}

describe('a service answering in the API\'s own error type', () => {
  test('no file under src/ outside app/, *.resolver.ts and otp/rest/ imports GraphQLError: services throw RequestRefused (core/errors), app/errors.ts translates it', () => {
    const offenders = sourceFiles(SRC).map((file) => relative(SRC, file))
      .filter((file) => !GRAPHQL_ERROR_EDGE(file) && importsGraphQLError(readFileSync(join(SRC, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  test('the scan itself sees every way of importing it', () => {
    expect([
      "import { GraphQLError } from 'graphql';",
      "import { type GraphQLError, GraphQLSchema } from 'graphql';",
      "import type { GraphQLError as E } from 'graphql';",
      "import * as graphql from 'graphql';\nthrow new graphql.GraphQLError('x');",
      "export { GraphQLError } from 'graphql';",
    ].map(importsGraphQLError)).toEqual([true, true, true, true, true]);
    expect([
      "import { GraphQLSchema, printSchema } from 'graphql';",
      "import { GraphQLError } from './errors';",
      "import * as graphql from 'graphql';\ngraphql.printSchema(s);",
    ].map(importsGraphQLError)).toEqual([false, false, false]);
  });
});
