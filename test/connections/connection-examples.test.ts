import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, validate } from 'graphql';
import { buildAppSchema } from '../../src/app/schema';
import { EXAMPLE_OPERATIONS } from '../../src/app/explorer-examples';

const schema = buildAppSchema();

function problems(source: string): string[] {
  return validate(schema, parse(source)).map((e) => e.message);
}

describe('connections examples: successful cases', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'connections.md'), 'utf8');
  const blocks = [...doc.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);

  test('docs/connections.md has examples for types, connecting, reading both sides, and integrity', () => {
    const all = blocks.join('\n');
    for (const field of ['createConnectionType', 'createConnection(', 'connections', 'connectionIntegrityReport', 'repairConnections']) {
      expect(all).toContain(field);
    }
  });

  test.each(blocks.map((b, i) => [i, b]))('docs example %i is valid against the schema', (_i, block) => {
    expect(problems(block as string)).toEqual([]);
  });

  test('every explorer example operation is valid against the schema', () => {
    for (const op of EXAMPLE_OPERATIONS) expect([op.title, problems(op.query)]).toEqual([op.title, []]);
  });
});
