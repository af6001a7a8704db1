import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** This server's version: the `version` of the nearest package.json named countersign above this file (src/ or dist/src/). */
function readVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'countersign' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

export const SERVER_VERSION = readVersion();
