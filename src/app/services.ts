import { Pool as PgPool, type Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from '../core/config';
import type { Metrics } from '../core/metrics';
import { ApiKeyService } from '../auth/api-key.service';
import { UserService } from '../auth/user.service';
import { ApiKeyResolver, UserResolver } from '../auth/auth.resolver';
import { RecordService } from '../records/record.service';
import { RecordResolver } from '../records/record.resolver';
import { Clock } from '../core/clock';
import { OtpRuleCache } from '../otp-rules/otp-rule.cache';
import { Notifications } from '../db/notifications';
import { rowsOf } from '../db/sql';
import { Authenticator } from '../auth/authenticator';
import { OtpRuleService } from '../otp-rules/otp-rule.service';
import { OtpRequestRuleResolver, OtpRuleResolver } from '../otp-rules/otp-rule.resolver';
import { OtpRuleGuard } from '../otp-rules/otp-rule.guard';
import { OtpServiceRuleGateway } from '../otp-rules/rule-otp.adapter';
import { RuleValidationFailures } from '../otp-rules/validation-failures';
import { ConnectionTypeService } from '../connections/connection-type.service';
import { ConnectionTypeResolver } from '../connections/connection-type.resolver';
import { ConnectionService } from '../connections/connection.service';
import { ConnectionResolver } from '../connections/connection.resolver';
import { RecordConnectionResolver, RecordConnectionsResolver } from '../connections/record-connection.resolver';
import { IntegrityService } from '../connections/integrity.service';
import { IntegrityResolver } from '../connections/integrity.resolver';
import { CodeHasher } from '../otp/codes';
import { DeliveryQueue } from '../otp/delivery/delivery-queue';
import { DeliveryWorker } from '../otp/delivery/delivery-worker';
import { createProviders } from '../otp/delivery/providers';
import { OtpLimits } from '../otp/otp-limits';
import { OtpResolver } from '../otp/otp.resolver';
import { OtpService } from '../otp/otp.service';
import { MessageTemplateResolver } from '../otp/templates/message-template.resolver';
import { MessageTemplateService } from '../otp/templates/message-template.service';
import { createFraudFeature } from '../fraud/fraud.feature';

export interface ServiceDeps {
  config: AppConfig;
  secretKey: string;
  log: Logger;
  metrics: Metrics;
}

/** The app's services, built once at start and handed to resolvers through their constructors. */
export interface Services {
  users: UserService;
  apiKeys: ApiKeyService;
  records: RecordService;
  otpRules: OtpRuleService;
  authenticator: Authenticator;
  clock: Clock;
  connectionTypes: ConnectionTypeService;
  connections: ConnectionService;
  connectionIntegrity: IntegrityService;
  resolverFor(resolverClass: Function): unknown;
  otp: OtpService;
  messageTemplates: MessageTemplateService;
  /** Starts background work (listeners, the OTP delivery queue and, when OTP_WORKER is on, its worker) once the database is ready. */
  start(): Promise<void>;
  /** Stops background work (workers, listeners) before the pool closes. */
  stop(): Promise<void>;
}

export function createServices(db: DataSource, deps: ServiceDeps): Services {
  const { config, log, metrics } = deps;
  const pool = (db.driver as unknown as { master: Pool }).master;
  // Counters written outside a caller's transaction (wrong OTP codes) use a pool of their own: a burst of guarded
  // saves, each holding a main-pool connection in its transaction, can then never starve them.
  const counters = new PgPool({ connectionString: databaseUrl(db), max: 5, application_name: 'countersign-counters', connectionTimeoutMillis: 5000 });
  counters.on('error', (error) => log.warn({ err: error }, 'counter pool connection lost'));
  const clock = new Clock();
  const notifications = new Notifications(databaseUrl(db), log);
  const authenticator = new Authenticator(db, { publicKeyPem: config.JWT_PUBLIC_KEY, jwksUrl: config.JWKS_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, maxAgeSeconds: config.JWT_MAX_AGE_SECONDS }, notifications);
  const users = new UserService(db, () => authenticator.forgetAll());
  const apiKeys = new ApiKeyService(db, () => authenticator.forgetAll());
  const records = new RecordService(db);
  const hasher = new CodeHasher(deps.secretKey);
  const queue = new DeliveryQueue(pool, config, log.child({ component: 'otp-delivery' }));
  const otp = new OtpService(db, { config, hasher, limits: new OtpLimits(pool, config), queue, metrics, log, counters: rowsOf(counters) });
  const messageTemplates = new MessageTemplateService(db);
  // Fraud guard (src/fraud): screens every OTP send before anything is taken or written; admin operations over GraphQL.
  const fraud = createFraudFeature(db, { config, metrics, log, notifications });
  otp.registerSendScreen(fraud.guard);
  const ruleCache = new OtpRuleCache(db, notifications, log);
  const ruleOtps = new OtpServiceRuleGateway(otp, config.DEFAULT_COUNTRY_CODE, config.SMTP_FROM_NAME);
  const otpRules = new OtpRuleService(db, ruleCache, ruleOtps, records, config.OTP_RULES_LIMIT);
  // sendOtp's ruleId is a plain reference (such OTPs never satisfy a guard), but it must name a rule that exists
  otp.registerReferenceCheck('ruleId', async (id) => (await otpRules.get(id)) !== null);
  otp.registerReferenceCheck('recordId', (id) => records.isLive(id));
  records.registerGuard(new OtpRuleGuard(ruleCache, ruleOtps, new RuleValidationFailures(rowsOf(counters), otp), clock));
  const connectionTypes = new ConnectionTypeService(db);
  const connections = new ConnectionService(db, records);
  const connectionIntegrity = new IntegrityService(db);
  const resolvers = new Map<Function, unknown>([
    [UserResolver, new UserResolver(users)],
    [ApiKeyResolver, new ApiKeyResolver(apiKeys)],
    [RecordResolver, new RecordResolver(records)],
    [OtpRuleResolver, new OtpRuleResolver(otpRules)],
    [OtpRequestRuleResolver, new OtpRequestRuleResolver()],
    [ConnectionTypeResolver, new ConnectionTypeResolver(connectionTypes)],
    [ConnectionResolver, new ConnectionResolver(connections)],
    [RecordConnectionsResolver, new RecordConnectionsResolver()],
    [RecordConnectionResolver, new RecordConnectionResolver()],
    [IntegrityResolver, new IntegrityResolver(connectionIntegrity)],
    [OtpResolver, new OtpResolver(otp)],
    [MessageTemplateResolver, new MessageTemplateResolver(messageTemplates)],
    ...fraud.resolvers,
  ]);
  let providers: ReturnType<typeof createProviders> | null = null;
  let interruptedSweep: NodeJS.Timeout | null = null;
  return {
    users,
    apiKeys,
    records,
    otpRules,
    authenticator,
    clock,
    connectionTypes,
    connections,
    connectionIntegrity,
    otp,
    messageTemplates,
    resolverFor(resolverClass) {
      const resolver = resolvers.get(resolverClass);
      if (!resolver) throw new Error(`No instance registered for resolver ${resolverClass.name}`);
      return resolver;
    },
    async start() {
      await notifications.start();
      await ruleCache.reload();
      await fraud.start();
      await queue.start();
      if (!config.OTP_WORKER) return;
      providers = createProviders(config, log);
      const worker = new DeliveryWorker(db, providers, hasher, metrics, log.child({ component: 'otp-delivery' }));
      await queue.work((job) => worker.deliver(job));
      // a SENDING delivery older than any live provider call belongs to a process that died during it
      const graceMs = config.OTP_PROVIDER_TIMEOUT_MS * 2 + 1000;
      interruptedSweep = setInterval(() => {
        worker.settleInterrupted(graceMs).catch((error) => log.warn({ err: error }, 'could not settle interrupted OTP deliveries'));
      }, Math.max(1000, config.OTP_PROVIDER_TIMEOUT_MS));
      interruptedSweep.unref();
    },
    async stop() {
      if (interruptedSweep) clearInterval(interruptedSweep);
      await queue.stop();
      providers?.close();
      await notifications.stop();
      await counters.end();
    },
  };
}

function databaseUrl(db: DataSource): string {
  return (db.options as { url?: string }).url!;
}
