import { buildSchema, execute, parse, type GraphQLResolveInfo } from 'graphql';
import { selectsOnly, selectsPath } from './selection';

const schema = buildSchema(`
  type User { email: String }
  type Item { id: ID owner: User }
  type Edge { node: Item }
  type Page { nodes: [Item] edges: [Edge] }
  type Query { items: Page }
`);

/** The info `items` is resolved with, for this query. */
function infoFor(query: string): GraphQLResolveInfo {
  let seen: GraphQLResolveInfo | null = null;
  const result = execute({ schema, document: parse(query), rootValue: { items: (_args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => { seen = info; return null; } } });
  if ('errors' in result && result.errors?.length) throw result.errors[0];
  return seen!;
}

describe('selectsPath', () => {
  test.each([
    ['{ items { nodes { owner { email } } } }', true],
    ['{ items { nodes { id } } }', false],
    ['{ items { edges { node { owner { email } } } } }', false], // another path
    ['{ items { list: nodes { who: owner { email } } } }', true], // aliases: names are what count
    ['{ items { ...P } } fragment P on Page { nodes { ...I } } fragment I on Item { owner { email } }', true],
    ['{ items { ... on Page { nodes { ... on Item { owner { email } } } } } }', true],
    ['{ items { nodes { owner @skip(if: true) { email } } } }', true], // skipped counts as selected: never less than needed
    ['{ items { owner: nodes { id } } }', false], // an alias named like the path is not the field
  ])('%s → %s', (query, expected) => {
    expect(selectsPath(infoFor(query), ['nodes', 'owner'])).toBe(expected);
  });

  test('a fragment spread twice on one level is walked without looping', () => {
    const info = infoFor('{ items { ...P ...P } } fragment P on Page { edges { node { id } } }');
    expect(selectsPath(info, ['edges', 'node', 'owner'])).toBe(false);
    expect(selectsPath(info, ['edges', 'node', 'id'])).toBe(true);
  });
});

describe('selectsOnly', () => {
  const ONLY_EMAIL = new Set(['email', '__typename']);
  test.each([
    ['{ items { nodes { owner { email } } } }', true],
    ['{ items { nodes { owner { email __typename } } } }', true],
    ['{ items { nodes { id } } }', true], // not selected at all: nothing more is asked
    ['{ items { nodes { owner { email id } } } }', false],
    ['{ items { nodes { owner { mail: email } } } }', true], // aliases: names are what count
    ['{ items { nodes { email: owner { id } } } }', false], // an alias does not hide the field: owner asks id
    ['{ items { nodes { owner { email } } more: nodes { owner { id } } } }', false], // every occurrence counts
    ['{ items { nodes { owner { ...U } } } } fragment U on User { email }', true],
    ['{ items { nodes { owner { ...U } } } } fragment U on User { email ... on User { id } }', false], // nested inline fragment
    ['{ items { ...P } } fragment P on Page { nodes { owner { id } } }', false],
    ['{ items { nodes { owner { ... on User { email } } } } }', true],
  ])('%s → %s', (query, expected) => {
    expect(selectsOnly(infoFor(query), ['nodes', 'owner'], ONLY_EMAIL)).toBe(expected);
  });

  test('a fragment spread twice is walked without looping, and each spread counts', () => {
    expect(selectsOnly(infoFor('{ items { ...P ...P } } fragment P on Page { nodes { owner { email } } }'), ['nodes', 'owner'], ONLY_EMAIL)).toBe(true);
  });
});
