/** Starts an embedded Postgres in its own process (as the server runs it), prints its URL, stops on SIGTERM. */
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

const [dir, port] = process.argv.slice(2);
startEmbeddedPostgres({ dir, port: Number(port), persistent: false }).then((pg) => {
  process.stdout.write(`${JSON.stringify({ url: pg.url })}\n`);
  process.on('SIGTERM', () => { pg.stop().then(() => process.exit(0)); });
}, (error) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
