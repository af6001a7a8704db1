import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '..', '..', 'src');

/** Each table and the one feature folder allowed to name it; other features call that feature's service. */
const OWNERS: Record<string, string> = {
  records: 'records',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `file:line` for every place outside the owner's folder that names the table in SQL or as a quoted table name. */
function trespasses(table: string, owner: string): string[] {
  const naming = new RegExp(`\\b(FROM|JOIN|UPDATE|INTO|TABLE)\\s+"?${table}\\b|'${table}'`);
  return sourceFiles(SRC)
    .filter((file) => !relative(SRC, file).startsWith(`${owner}/`))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n')
      .flatMap((line, i) => (naming.test(line) ? [`${relative(SRC, file)}:${i + 1}`] : [])));
}

describe('a feature reaching into a table it does not own', () => {
  test.each(Object.entries(OWNERS))('the %s table is named only in src/%s/; the others go through its service', (table, owner) => {
    expect(trespasses(table, owner)).toEqual([]);
  });
});
