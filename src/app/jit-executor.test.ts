import { buildSchema, execute, getOperationAST, GraphQLError, GraphQLObjectType, GraphQLScalarType, GraphQLUnionType, parse, type ExecutionResult } from 'graphql';
import { JitExecutor } from './jit-executor';

class Refused extends Error {
  readonly extensions = { code: 'BAD_USER_INPUT', argumentName: 'first' };
}

/** What the app's schema has that graphql-jit could answer differently: resolvers, a custom scalar, a union, errors. */
function testSchema() {
  const built = buildSchema(`
    scalar When
    type Book { title: String }
    type Film { minutes: Int }
    union Thing = Book | Film
    type Item { id: ID! at: When kind: String thing: Thing broken: String missing: String! }
    type Query { items: [Item!]! refuse(argument: String): String later(fail: Boolean): String count(n: Int!): Int }
  `);
  const when = built.getType('When') as GraphQLScalarType;
  when.serialize = (value) => (value as Date).toISOString();
  (built.getType('Thing') as GraphQLUnionType).resolveType = (value) => ('title' in (value as object) ? 'Book' : 'Film');
  const item = (built.getType('Item') as GraphQLObjectType).getFields();
  item.broken.resolve = (source) => { if (source.id === '2') throw new Error('fault'); return 'fine'; };
  const query = built.getQueryType()!.getFields();
  query.items.resolve = () => [1, 2, 3].map((n) => ({
    id: String(n), at: new Date(Date.UTC(2024, 0, n)), kind: n % 2 ? 'odd' : 'even', thing: n % 2 ? { title: `B${n}` } : { minutes: n }, missing: n === 3 ? null : 'here',
  }));
  query.refuse.resolve = () => { throw new Refused('first must be at most 100.'); };
  query.later.resolve = async (_source, args) => { if (args.fail) throw new Error('later fault'); return 'ok'; };
  query.count.resolve = (_source, args) => args.n;
  return built;
}

const schema = testSchema();

async function both(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  const document = parse(query);
  const jit = new JitExecutor(schema, { maxOperations: 10, compileAfter: 0 });
  const args = { key: query, document, operation: getOperationAST(document, operationName) ?? undefined, operationName, variables, context: { viewer: 'v' } };
  const compiled = await jit.execute(args);
  const expected = await execute({ schema, document, contextValue: { viewer: 'v' }, variableValues: variables, operationName });
  return { compiled, expected, jit };
}

/** What a client reads of a result, and what our formatError reads of each error (its original error). */
function seen(result: ExecutionResult) {
  return {
    json: JSON.stringify(result),
    originals: result.errors?.map((e) => [e instanceof GraphQLError, e.originalError?.constructor.name, JSON.stringify(e.extensions)]),
  };
}

describe('JitExecutor answers exactly what graphql\'s execute answers', () => {
  test.each([
    ['plain fields and a custom scalar', '{ items { id at kind } }'],
    ['an abstract type', '{ items { thing { __typename ... on Book { title } ... on Film { minutes } } } }'],
    ['a refused argument: the error keeps its code and path', '{ refuse(argument: "first") }'],
    ['an unexpected fault in a list item', '{ items { id broken } }'],
    ['null in a non-null field', '{ items { id missing } }'],
    ['a failing async resolver', '{ later(fail: true) }'],
    ['variables', 'query($n: Int!) { count(n: $n) }'],
    ['introspection', '{ __schema { queryType { name } types { name kind } } }'],
  ])('%s', async (_name, query) => {
    const { compiled, expected } = await both(query, { n: 3 });
    expect(seen(compiled)).toEqual(seen(expected));
  });

  test.each([
    ['a variable of the wrong type', { n: 'three' }],
    ['a missing required variable', {}],
  ])('%s: graphql\'s own error (Apollo reads its form), nothing run', async (_name, variables) => {
    const { compiled, expected } = await both('query($n: Int!) { count(n: $n) }', variables);
    expect(compiled.errors?.[0].nodes?.[0].kind).toBe('VariableDefinition');
    expect(seen(compiled)).toEqual(seen(expected));
  });

  test.each([
    ['a named operation', 'query A { count(n: 1) }'],
    ['a lone anonymous operation (graphql-jit would run it)', '{ count(n: 1) }'],
  ])('an operation name the document lacks, with %s: graphql\'s execute refuses it, nothing compiled', async (_name, query) => {
    const { compiled, expected, jit } = await both(query, {}, 'B');
    expect(compiled.data).toBeUndefined();
    expect(seen(compiled)).toEqual(seen(expected));
    expect(jit.size).toEqual({ operations: 0, compiled: 0 });
  });

  test('a document graphql-jit cannot compile is answered by graphql\'s execute, and remembered as such', async () => {
    const jit = new JitExecutor(schema, { maxOperations: 10, compileAfter: 0 });
    const document = parse('query A { count(n: 1) } query B { count(n: 2) }');
    // the operation Apollo resolved (A), but graphql-jit asked for another name than the document has: it cannot compile
    const args = { key: 'doc', document, operation: getOperationAST(document, 'A')!, operationName: 'C', variables: {}, context: {} };
    const expected = await execute({ schema, document, operationName: 'C' });
    expect(seen(await jit.execute(args))).toEqual(seen(expected));
    expect(seen(await jit.execute(args))).toEqual(seen(expected));
    expect(jit.size).toEqual({ operations: 1, compiled: 0 });
  });
});

describe('JitExecutor cache', () => {
  const run = (jit: JitExecutor, query: string) => {
    const document = parse(query);
    return jit.execute({ key: query, document, operation: getOperationAST(document) ?? undefined, operationName: undefined, variables: {}, context: {} });
  };

  test('a document runs uncompiled on its first use and is compiled on its second', async () => {
    const jit = new JitExecutor(schema, { maxOperations: 10, compileAfter: 1 });
    await run(jit, '{ count(n: 2) }');
    expect(jit.size).toEqual({ operations: 1, compiled: 0 });
    expect(await run(jit, '{ count(n: 2) }')).toEqual({ data: { count: 2 } });
    expect(jit.size).toEqual({ operations: 1, compiled: 1 });
  });

  test('attacker: 2,000 distinct documents keep at most the bound, and compile nothing used once', async () => {
    const jit = new JitExecutor(schema, { maxOperations: 50, compileAfter: 1 });
    for (let i = 0; i < 2000; i += 1) expect(await run(jit, `{ count(n: ${i}) }`)).toEqual({ data: { count: i } });
    expect(jit.size).toEqual({ operations: 50, compiled: 0 });
  });

  test('attacker: 300 distinct documents each used twice keep at most the bound compiled', async () => {
    const jit = new JitExecutor(schema, { maxOperations: 50, compileAfter: 1 });
    for (let i = 0; i < 300; i += 1) {
      await run(jit, `{ count(n: ${i}) }`);
      expect(await run(jit, `{ count(n: ${i}) }`)).toEqual({ data: { count: i } });
    }
    expect(jit.size).toEqual({ operations: 50, compiled: 50 });
  });
});
