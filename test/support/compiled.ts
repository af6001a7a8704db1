import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
/** Set by global-setup: where the server's code was transpiled to JavaScript for this run. */
export const COMPILED_ENV = 'TEST_COMPILED_DIR';

/**
 * Transpiles src/, migrations/ and ormconfig.ts once per run (as ts-node --transpile-only would in every child
 * process, which costs seconds each). Under node_modules/.cache, so the copies resolve packages from the checkout.
 */
export function transpileServer(): string {
  const out = join(ROOT, 'node_modules', '.cache', 'countersign-test', `${process.pid}-${Date.now()}`);
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, {
    ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  })!;
  for (const file of config.fileNames) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { ...config.options, sourceMap: false, inlineSourceMap: true }, fileName: file,
    });
    const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return out;
}

export function removeTranspiled(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Node arguments that run `script` (e.g. `src/main.ts`): the run's transpiled copy, or through ts-node without one. */
export function nodeArgs(script: string): string[] {
  const compiled = process.env[COMPILED_ENV];
  return compiled ? [join(compiled, script.replace(/\.ts$/, '.js'))] : ['-r', 'ts-node/register/transpile-only', join(ROOT, script)];
}
