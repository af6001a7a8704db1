import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = `
const { generate } = require('@graphql-codegen/cli');
generate(JSON.parse(process.argv[1]), true).then(
  () => process.exit(0),
  (error) => {
    const details = error && Array.isArray(error.errors) ? error.errors.map((e) => e.details || e.message).join('\\n') : '';
    process.stderr.write(String((error && error.message) || error) + '\\n' + details);
    process.exit(1);
  },
);`;

/**
 * Runs @graphql-codegen/cli's programmatic `generate(config, saveToFile)` in a Node process of its own, as a frontend's
 * build would: the CLI's yargs is ESM-only, which Node requires natively but Jest's module loader cannot.
 */
export function runCodegen(config: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', SCRIPT, JSON.stringify(config)], { cwd: ROOT, timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`graphql-codegen failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}
