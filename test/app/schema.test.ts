import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printAppSchema } from '../../src/app/print-schema';

test('schema.graphql is the schema the code builds (run `npm run schema:print` after changing types)', () => {
  const committed = readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
  expect(committed).toBe(printAppSchema());
});
