import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { buildAppSchema } from './schema';

/** The committed schema.graphql is exactly this output; test/schema.test.ts fails when it is stale. */
export function printAppSchema(): string {
  return `${printSchema(buildAppSchema())}\n`;
}

if (require.main === module) {
  writeFileSync(join(__dirname, '..', '..', 'schema.graphql'), printAppSchema());
  process.stdout.write('schema.graphql written\n');
}
