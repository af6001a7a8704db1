// The ceiling: a bare node:http server doing one parameterised INSERT per request through pg (no framework).
const http = require('node:http');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE || 10) });
async function main() {
  await pool.query('CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      pool.query('INSERT INTO bench_ceiling (payload) VALUES ($1) RETURNING id', [body]).then(
        (r) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ id: r.rows[0].id })); },
        () => { res.statusCode = 500; res.end(); },
      );
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}
main();
