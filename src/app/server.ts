import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import type {} from 'pino-http'; // its types: req.id and req.log on every request
import type { Logger } from 'pino';
import type { AppConfig } from '../core/config';
import type { Loaders, RequestContext } from '../core/context';
import type { Principal } from '../auth/authenticator';
import { RequestRefused } from '../core/errors';
import { createLogger } from './logger';
import { Metrics } from '../core/metrics';
import { explorerRouter } from './explorer';
import { buildAppSchema } from './schema';
import { serveSubscriptions } from './subscriptions';
import { createServices, type Services } from './services';
import { createLoaders } from './loaders';
import { formatError, serviceUnavailableStatus, toGraphQLError } from './errors';
import { operationLimits, queryLimitRules } from './limits';
import { graphqlOverHttpStatus } from './response-status';
import { openDatabase, type Database } from '../db/database';
import { isDatabaseUnavailable } from '../db/sql';
import { GraphQLError } from 'graphql';
import { resolveSecretKey } from './secret-key';
import { ensureAdminKey } from '../auth/bootstrap';
import { otpRestRouter } from '../otp/rest/otp-rest.router';
import { webhooksRouter } from '../otp/delivery/webhooks';
import { ruleOtpHeaders } from '../otp-rules/rule-credentials';

export interface RunningApp {
  url: string;
  graphqlUrl: string;
  db: Database;
  services: Services;
  log: Logger;
  /** Set when this start created the built-in admin's first key: shown once. */
  firstAdminKey: string | null;
  /** Stops taking requests, lets in-flight ones finish, then closes the pool (and the embedded database). */
  stop(): Promise<void>;
}

export const BODY_LIMIT = '1mb';

export async function startApp(config: AppConfig, log: Logger = createLogger(config.LOG_LEVEL)): Promise<RunningApp> {
  const secretKey = resolveSecretKey(config.SECRET_KEY, config.DATA_DIR);
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: config.DB_POOL_SIZE,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    randomPageCost: config.DB_RANDOM_PAGE_COST,
    runMigrations: config.MIGRATIONS_RUN,
    log,
  });
  try {
    return await serve(config, log, db, secretKey);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

async function serve(config: AppConfig, log: Logger, db: Database, secretKey: string): Promise<RunningApp> {
  const dataSource = db.dataSource;
  const metrics = new Metrics();
  const services = createServices(dataSource, { config, secretKey, log, metrics });
  await services.start();
  try {
    return await listen(config, log, db, services, metrics);
  } catch (error) {
    await services.stop();
    throw error;
  }
}

async function listen(config: AppConfig, log: Logger, db: Database, services: Services, metrics: Metrics): Promise<RunningApp> {
  const dataSource = db.dataSource;
  const firstAdminKey = await ensureAdminKey(services.apiKeys, config.ADMIN_API_KEY, log);
  const authenticator = services.authenticator;
  const contextFor = async (req: express.Request): Promise<RequestContext> => {
    const principal = await authenticator.authenticate(req.headers.authorization).catch((error) => {
      if (error instanceof RequestRefused) throw toGraphQLError(error); // the REST door reads it too (401)
      if (!isDatabaseUnavailable(error)) throw error;
      throw new GraphQLError('The database is unreachable right now; nothing was changed. Try again shortly.', {
        extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: new Map([['retry-after', '2']]) } },
      });
    });
    return new HttpRequestContext(req, principal, dataSource);
  };
  const app = express();
  const httpServer = http.createServer(app);

  const schema = buildAppSchema({ get: (resolverClass) => services.resolverFor(resolverClass) }, services.eventStream);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    validationRules: queryLimitRules(config),
    allowBatchedHttpRequests: false,
    stopOnTerminationSignals: false, // main.ts and worker.ts own SIGTERM/SIGINT and call stop() once
    // A request carrying Authorization was preflighted by any browser (the header is not CORS-safelisted), and our
    // credentials travel only there: so it counts as a preflight header, like Apollo's own two.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    introspection: true,
    includeStacktraceInErrorResponses: false, // stacks go to the log only, in every environment
    formatError: (formatted, error) => formatError(formatted, error, log, config.NODE_ENV === 'development'),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.SHUTDOWN_TIMEOUT_MS }),
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; the default cache-control plugin would otherwise wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      metrics.graphqlPlugin(),
      serviceUnavailableStatus,
      graphqlOverHttpStatus,
      operationLimits(config),
    ],
  });
  await apollo.start();

  app.disable('x-powered-by');
  // No ETag: answers to POSTs (almost every request) can never be revalidated with one, and hashing each body cost a
  // share of every request; the explorer's assets keep theirs (sendFile makes its own).
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(requestEdge(app, log, metrics));

  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    try {
      await withTimeout(dataSource.query('SELECT 1'), 2000);
      res.json({ status: 'ready' });
    } catch (error) {
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // Without CORS_ORIGINS no cross-origin browser call is allowed, which is what a missing middleware answers too.
  if (config.CORS_ORIGINS.length) app.use(['/graphql', '/api'], cors({ origin: config.CORS_ORIGINS, credentials: true, maxAge: 600 }));
  const explorer = explorerRouter('/graphql');
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? explorer(req, res, next) : next())); // pages only
  app.use(
    '/graphql',
    express.json({ limit: BODY_LIMIT }),
    expressMiddleware(apollo, {
      context: ({ req }) => contextFor(req),
    }),
  );
  app.use('/api', otpRestRouter({ otpService: services.otp, idempotency: services.idempotency, contextFor, bodyLimit: BODY_LIMIT, log }));
  app.use('/webhooks', webhooksRouter(dataSource, config, BODY_LIMIT, services.events, services.otp));
  app.use((_req, res) => {
    res.status(404).json({ errors: [{ message: 'Not found. The API is at /graphql.', extensions: { code: 'NOT_FOUND' } }] });
  });
  app.use(httpErrorHandler(log));

  const subscriptions = serveSubscriptions(httpServer, '/graphql', {
    schema, authenticator, validationRules: queryLimitRules(config), createLoaders: () => createLoaders(dataSource), log,
    development: config.NODE_ENV === 'development',
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const url = `http://${host}:${port}`;

  let stopping: Promise<void> | null = null;
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    db,
    services,
    log,
    firstAdminKey,
    stop() {
      stopping ??= (async () => {
        await subscriptions.close();
        await apollo.stop();
        await services.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}

/**
 * What every request gets, in one middleware with one `finish` listener (three middlewares with two listeners and a
 * timer closure each cost about a fifth of the trivial query's throughput, see README "Benchmark"):
 * - the request id: a sane `x-request-id` from the caller, or a new one, echoed back;
 * - headers that keep every page of this server out of other sites' frames (clickjacking the explorer, which keeps the
 *   key in local storage) and stop MIME sniffing;
 * - `req.log`, a child logger bound to `req: { id, method, url }`, made only when something logs (what pino-http did
 *   here, for less per request);
 * - when the response has finished: the HTTP duration histogram, and one "request completed" line (at error level
 *   for a 5xx) when that level is enabled, with the status and the response time in ms.
 * `req.log` is one getter on this app's request prototype, defined once: a property defined on each request object
 * gave every request its own object shape, which slowed every later property access on it.
 */
function requestEdge(app: express.Express, log: Logger, metrics: Metrics): express.RequestHandler {
  const CHILD = Symbol('request logger');
  type Logged = express.Request & { [CHILD]?: Logger };
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Logged) {
      return (this[CHILD] ??= log.child({ req: { id: this.id, method: this.method, url: String(this.originalUrl ?? this.url).split('?')[0] } }));
    },
    set(this: Logged, value: Logger) { this[CHILD] = value; },
  });
  return (req, res, next) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    req.id = id;
    const quiet = req.url === '/healthz' || req.url === '/metrics';
    res.once('finish', () => {
      const ms = performance.now() - started;
      metrics.observeHttp(req, res.statusCode, ms / 1000);
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (quiet || !log.isLevelEnabled(level)) return;
      req.log[level]({ res: { statusCode: res.statusCode }, responseTime: Math.round(ms) }, res.statusCode >= 500 ? 'request errored' : 'request completed');
    });
    next();
  };
}

/**
 * The context of one HTTP request. What most operations never read (the loaders, the request's logger, the client's
 * address behind the proxy, the rule OTP headers) is made on first use, by getters on this class: sends, verifies and
 * the trivial query build none of it. (Getters on the prototype, not proxies: a proxy's trap ran on every
 * `ctx.loaders.x` of a page's rows; and unlike own getters they survive Apollo copying the context.)
 */
class HttpRequestContext implements RequestContext {
  readonly requestId: string;
  readonly user: Principal['user'];
  readonly apiKeyId: string | null;
  // plain properties, not #private ones: a copy of the context (Object.create(prototype) + Object.assign) must work too
  private made: { loaders?: Loaders; ruleOtpHeaders?: Record<string, string> } = {};

  constructor(private readonly req: express.Request, principal: Principal, private readonly dataSource: Database['dataSource']) {
    this.requestId = String(req.id);
    this.user = principal.user;
    this.apiKeyId = principal.apiKeyId;
  }

  get loaders(): Loaders {
    return (this.made.loaders ??= createLoaders(this.dataSource));
  }

  freshLoaders(): void {
    this.made.loaders = undefined;
  }

  get log(): Logger {
    return this.req.log;
  }

  get clientIp(): string | null {
    return this.req.ip ?? null;
  }

  get ruleOtpHeaders(): Record<string, string> {
    return (this.made.ruleOtpHeaders ??= ruleOtpHeaders(this.req.headers));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); }),
  ]);
}

/** Body-parser and other HTTP-level failures answer in the GraphQL error shape, never with a stack. */
function httpErrorHandler(log: Logger): express.ErrorRequestHandler {
  return (error, req, res, _next) => {
    const status: number = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    const known: Record<string, [string, string]> = {
      'entity.too.large': ['PAYLOAD_TOO_LARGE', `The request body is larger than ${BODY_LIMIT}.`],
      'entity.parse.failed': ['BAD_REQUEST', 'The request body is not valid JSON.'],
      'encoding.unsupported': ['BAD_REQUEST', 'The request body encoding is not supported.'],
      'charset.unsupported': ['BAD_REQUEST', 'The request body charset is not supported.'],
    };
    const [code, message] = known[error?.type] ?? (status < 500 ? ['BAD_REQUEST', 'The request could not be read.'] : ['INTERNAL_SERVER_ERROR', 'Internal server error.']);
    if (status >= 500) (req.log ?? log).error({ err: error }, 'unhandled HTTP error');
    if (res.headersSent) return;
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}
