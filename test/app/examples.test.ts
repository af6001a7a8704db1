import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema, Kind, parse, print, validate, type OperationDefinitionNode } from 'graphql';
import * as ts from 'typescript';
import { EXAMPLE_OPERATIONS } from '../../src/app/explorer-examples';
import { runCodegen } from '../support/codegen';

// The documented operations are a contract: the explorer's tabs (EXAMPLE_OPERATIONS) are the one list, the README
// shows some of them word for word, Apollo Client runs them all (real-clients.test.ts), and here GraphQL Code
// Generator types them from schema.graphql and the TypeScript compiler checks the types and the example variables.
const ROOT = join(__dirname, '..', '..');
const SCHEMA = readFileSync(join(ROOT, 'schema.graphql'), 'utf8');

const operationsOf = (source: string) => parse(source).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
const EXAMPLES = new Map(EXAMPLE_OPERATIONS.flatMap((example) => operationsOf(example.query).map((op) => [op.name!.value, { example, op }] as const)));

/** Each ```graphql block of a Markdown file. */
function graphqlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('a maintainer edits an operation in the README, or an example tab, but not the other', () => {
  const readmeOperations = graphqlBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).flatMap(operationsOf);

  test('the README shows example operations', () => {
    expect(readmeOperations.length).toBeGreaterThanOrEqual(5);
  });

  test.each(readmeOperations.map((op) => [op.name?.value ?? '(anonymous)', op] as const))('README operation %s is an explorer example, word for word', (name, op) => {
    const example = EXAMPLES.get(name);
    if (!example) throw new Error(`README operation ${name} is not in src/app/explorer-examples.ts`);
    expect(print(op)).toBe(print(example.op));
  });
});

describe('a schema change leaves an operation in the docs behind', () => {
  const schema = buildSchema(SCHEMA);
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const blocks = files.flatMap((file) => graphqlBlocks(readFileSync(join(ROOT, file), 'utf8')).map((block, i) => [`${file} #${i + 1}`, block] as const));

  test.each(blocks)('%s is valid against schema.graphql', (_where, block) => {
    expect(validate(schema, parse(block)).map((e) => e.message)).toEqual([]);
  });
});

function variablesType(op: OperationDefinitionNode): string {
  return `${op.name!.value}${{ query: 'Query', mutation: 'Mutation', subscription: 'Subscription' }[op.operation]}Variables`;
}

/** Example variables as TypeScript assignments to the generated variable types (excess or missing fields fail). */
function usageFile(): string {
  const lines = ["import type * as Ops from './operations';", ''];
  for (const [name, { example, op }] of EXAMPLES) {
    const declared = new Set(op.variableDefinitions?.map((v) => v.variable.name.value));
    const variables = Object.fromEntries(Object.entries(example.variables ?? {}).filter(([key]) => declared.has(key)));
    lines.push(`export const ${name}: Ops.${variablesType(op)} = ${JSON.stringify(variables, null, 2)};`);
  }
  return `${lines.join('\n')}\n`;
}

// `Record` is also a type of our schema, so JSONObject is spelled as an index signature
const SCALARS = { DateTimeISO: 'string', LocalDate: 'string', JSON: 'unknown', JSONObject: '{ [key: string]: unknown }' };

async function typeCheckExamples(schema: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-codegen-'));
  writeFileSync(join(dir, 'schema.graphql'), schema);
  writeFileSync(join(dir, 'examples.graphql'), EXAMPLE_OPERATIONS.map((e) => e.query).join('\n\n'));
  await runCodegen({
    schema: join(dir, 'schema.graphql'),
    documents: [join(dir, 'examples.graphql')],
    // typescript-operations 6 declares the enums and inputs the operations use itself, so the schema's own types
    // (the typescript plugin) go to a file of their own; both are type-checked.
    generates: {
      [join(dir, 'schema-types.ts')]: { plugins: ['typescript'], config: { strictScalars: true, scalars: SCALARS } },
      [join(dir, 'operations.ts')]: { plugins: ['typescript-operations'], config: { strictScalars: true, scalars: SCALARS } },
    },
    silent: true,
    errorsOnly: true,
  });
  writeFileSync(join(dir, 'usage.ts'), usageFile());
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  const program = ts.createProgram(files, { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, types: [] });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? `${d.file.fileName.slice(dir.length + 1)}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('a frontend generates TypeScript types for the documented operations from schema.graphql', () => {
  test('GraphQL Code Generator (typescript + typescript-operations) types every example, and the example variables type-check', async () => {
    expect(await typeCheckExamples(SCHEMA)).toEqual([]);
  });

  test('a schema change that removes a field an example reads fails', async () => {
    const broken = SCHEMA.replace(/^(\s+)maskedMobileNo: String$/m, '$1maskedMobile: String');
    expect(broken).not.toBe(SCHEMA);
    await expect(typeCheckExamples(broken)).rejects.toThrow(/maskedMobileNo/);
  });

  test('a schema change that renames an input field an example sets fails the type check', async () => {
    const broken = SCHEMA.replace(/(input SendOtpInput \{[\s\S]*?)\bmobileNo:/, '$1mobile:');
    expect(broken).not.toBe(SCHEMA);
    const problems = await typeCheckExamples(broken);
    expect(problems.join('\n')).toMatch(/usage\.ts: .*"mobileNo"' does not exist in type 'SendOtpInput'/);
  });
});
