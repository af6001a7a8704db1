import 'reflect-metadata';
import { loadConfigOrExit, stopOnSignals } from './app/process-lifecycle';
import { createLogger } from './app/logger';
import { startApp } from './app/server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL);
  const app = await startApp(config, log);
  // handlers first: whoever reads the banner may signal at once
  stopOnSignals(log, 'in-flight requests', config.SHUTDOWN_TIMEOUT_MS, () => app.stop());
  log.info({ url: app.graphqlUrl, embeddedDatabase: app.db.embedded }, 'countersign is listening');
  printBanner(app.graphqlUrl, app.db.embedded, app.firstAdminKey);
}

/** Human-readable lines for the person who ran `npm start`; the first admin key appears here once and never in the JSON log. */
function printBanner(graphqlUrl: string, embedded: boolean, firstAdminKey: string | null): void {
  const lines = [
    '',
    `  Countersign is running${embedded ? ' on its embedded Postgres (data in DATA_DIR)' : ''}.`,
    `  GraphQL endpoint: ${graphqlUrl}`,
    `  Explorer:         ${graphqlUrl} (open it in a browser)`,
  ];
  if (firstAdminKey) {
    lines.push(
      '',
      `  Admin API key (shown once; store it now): ${firstAdminKey}`,
      `  Try: curl -s ${graphqlUrl} -H 'content-type: application/json' -H 'authorization: Bearer ${firstAdminKey}' -d '{"query":"{ modules { name } }"}'`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((error) => {
  process.stderr.write(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
