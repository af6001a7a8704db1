import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printOpenApi } from './openapi';

/** `npm run openapi:print`: rewrites the committed openapi.json (test/otp/otp-openapi.test.ts fails when it is stale). */
if (require.main === module) {
  writeFileSync(join(__dirname, '..', '..', '..', 'openapi.json'), printOpenApi());
  process.stdout.write('openapi.json written\n');
}
