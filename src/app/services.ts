import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from './config';
import { ApiKeyService } from '../auth/api-key.service';
import { UserService } from '../auth/user.service';
import { ApiKeyResolver, UserResolver } from '../auth/auth.resolver';
import { RecordService } from '../records/record.service';
import { RecordResolver } from '../records/record.resolver';
import { Clock } from '../common/clock';
import { OtpRuleCache } from '../otp-rules/otp-rule.cache';
import { Notifications } from '../db/notifications';
import { Authenticator } from '../auth/authenticator';
import { OtpRuleService } from '../otp-rules/otp-rule.service';
import { OtpRuleResolver } from '../otp-rules/otp-rule.resolver';
import { ConnectionTypeService } from '../connections/connection-type.service';
import { ConnectionTypeResolver } from '../connections/connection-type.resolver';
import { ConnectionService } from '../connections/connection.service';
import { ConnectionResolver } from '../connections/connection.resolver';
import { RecordConnectionResolver, RecordConnectionsResolver } from '../connections/record-connection.resolver';
import { IntegrityService } from '../connections/integrity.service';
import { IntegrityResolver } from '../connections/integrity.resolver';

export interface ServiceDeps {
  config: AppConfig;
  secretKey: string;
  log: Logger;
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
  /** Starts background work (listeners, workers) once the database is ready. */
  start(): Promise<void>;
  /** Stops background work (workers, listeners) before the pool closes. */
  stop(): Promise<void>;
}

export function createServices(db: DataSource, deps: ServiceDeps): Services {
  const clock = new Clock();
  const notifications = new Notifications(databaseUrl(db), deps.log);
  const c = deps.config;
  const authenticator = new Authenticator(db, { publicKeyPem: c.JWT_PUBLIC_KEY, jwksUrl: c.JWKS_URL, issuer: c.JWT_ISSUER, audience: c.JWT_AUDIENCE }, notifications);
  const users = new UserService(db, () => authenticator.forgetAll());
  const apiKeys = new ApiKeyService(db, () => authenticator.forgetAll());
  const records = new RecordService(db);
  const ruleCache = new OtpRuleCache(db, notifications, deps.log);
  const otpRules = new OtpRuleService(db, ruleCache, deps.config.OTP_RULES_LIMIT);
  const connectionTypes = new ConnectionTypeService(db);
  const connections = new ConnectionService(db);
  const connectionIntegrity = new IntegrityService(db);
  const resolvers = new Map<Function, unknown>([
    [UserResolver, new UserResolver(users)],
    [ApiKeyResolver, new ApiKeyResolver(apiKeys)],
    [RecordResolver, new RecordResolver(records)],
    [OtpRuleResolver, new OtpRuleResolver(otpRules)],
    [ConnectionTypeResolver, new ConnectionTypeResolver(connectionTypes)],
    [ConnectionResolver, new ConnectionResolver(connections)],
    [RecordConnectionsResolver, new RecordConnectionsResolver()],
    [RecordConnectionResolver, new RecordConnectionResolver()],
    [IntegrityResolver, new IntegrityResolver(connectionIntegrity)],
  ]);
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
    resolverFor(resolverClass) {
      const resolver = resolvers.get(resolverClass);
      if (!resolver) throw new Error(`No instance registered for resolver ${resolverClass.name}`);
      return resolver;
    },
    async start() {
      await notifications.start();
      await ruleCache.reload();
    },
    async stop() {
      await notifications.stop();
    },
  };
}

function databaseUrl(db: DataSource): string {
  return (db.options as { url?: string }).url!;
}
