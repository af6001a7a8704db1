// The framework floor for a trivial query: express 5 + Apollo Server 5 with one resolver returning a constant.
const http = require('node:http');
const express = require('express');
const { ApolloServer } = require('@apollo/server');
const { expressMiddleware } = require('@as-integrations/express5');

async function main() {
  const apollo = new ApolloServer({ typeDefs: 'type Query { ping: String! }', resolvers: { Query: { ping: () => 'pong' } } });
  await apollo.start();
  const app = express();
  app.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(apollo));
  const server = http.createServer(app);
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
main();
