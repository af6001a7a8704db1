import { poolOf, preparedQueries } from '../db/pipelined-sql';
import { Pool as PgPool, type Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from '../core/config';
import type { FeatureParts } from '../core/feature';
import type { Metrics } from '../core/metrics';
import { Clock } from '../core/clock';
import { Notifications } from '../db/notifications';
import type { Queryable } from '../db/sql';
import { FEATURES, type FeatureServices, type WiredInOrder } from '../features';

export interface ServiceDeps {
  config: AppConfig;
  secretKey: string;
  log: Logger;
  metrics: Metrics;
}

/** What the app builds once and hands to every feature's `build` (each takes the parts it names). */
export interface SharedInfra extends ServiceDeps {
  db: DataSource;
  /** The main pool under `db`. */
  pool: Pool;
  /** Statements outside any caller's transaction (wrong-code counters), on a pool of their own. */
  counters: Queryable;
  notifications: Notifications;
  clock: Clock;
}

/** Fails to compile, naming the feature, when the list in src/features.ts builds a feature before one it needs. */
const FEATURES_WIRED_IN_ORDER: WiredInOrder<typeof FEATURES, SharedInfra> = true;

/** The app's services, built once at start and handed to resolvers through their constructors. */
export type Services = FeatureServices & {
  clock: Clock;
  resolverFor(resolverClass: Function): unknown;
  /** Starts background work (listeners, then each feature in list order: the rule cache, the OTP delivery queue and, when OTP_WORKER is on, its worker) once the database is ready. */
  start(): Promise<void>;
  /** Stops background work (features in reverse order, then listeners) before the pool closes. */
  stop(): Promise<void>;
};

export function createServices(db: DataSource, deps: ServiceDeps): Services {
  const { log } = deps;
  const pool = poolOf(db);
  // Counters written outside a caller's transaction (wrong OTP codes) use a pool of their own: a burst of guarded
  // saves, each holding a main-pool connection in its transaction, can then never starve them.
  const counters = new PgPool({ connectionString: databaseUrl(db), max: 5, application_name: 'countersign-counters', connectionTimeoutMillis: 5000 });
  counters.on('error', (error) => log.warn({ err: error }, 'counter pool connection lost'));
  const clock = new Clock();
  const notifications = new Notifications(databaseUrl(db), log);
  const infra: SharedInfra = { ...deps, db, pool, counters: preparedQueries(counters), notifications, clock };

  // Each feature gets the infrastructure and every service of the features before it (checked at compile time above).
  let provided: object = infra;
  const parts: Array<FeatureParts<object>> = [];
  for (const feature of FEATURES) {
    const built = (feature.build as (needs: object) => FeatureParts<object>)(provided);
    provided = { ...provided, ...built.services };
    parts.push(built);
  }
  const resolvers = resolverInstances(parts);

  return {
    ...(provided as FeatureServices),
    clock,
    resolverFor(resolverClass) {
      const resolver = resolvers.get(resolverClass);
      if (!resolver) throw new Error(`No instance registered for resolver ${resolverClass.name}`);
      return resolver;
    },
    async start() {
      await notifications.start();
      for (const part of parts) await part.start?.();
    },
    async stop() {
      for (const part of [...parts].reverse()) await part.stop?.();
      await notifications.stop();
      await counters.end();
    },
  };
}

/** The resolver instances of every feature, by class; each feature must build exactly the classes it declares. */
function resolverInstances(parts: Array<FeatureParts<object>>): Map<Function, object> {
  const byClass = new Map<Function, object>();
  FEATURES.forEach((feature, i) => {
    const built = new Map(parts[i].resolvers.map((instance) => [instance.constructor, instance]));
    const declared = new Set<Function>(feature.resolvers);
    const mismatched = [...declared].filter((c) => !built.has(c)).concat([...built.keys()].filter((c) => !declared.has(c)));
    if (mismatched.length) throw new Error(`Feature ${feature.name} must build one instance of each resolver it declares: ${mismatched.map((c) => c.name).join(', ')}`);
    built.forEach((instance, resolverClass) => byClass.set(resolverClass, instance));
  });
  return byClass;
}

function databaseUrl(db: DataSource): string {
  return (db.options as { url?: string }).url!;
}
