import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from './config';
import type { Metrics } from './metrics';
import { ApiKeyService } from '../auth/api-key.service';
import { UserService } from '../auth/user.service';
import { ApiKeyResolver, UserResolver } from '../auth/auth.resolver';
import { RecordService } from '../records/record.service';
import { RecordResolver } from '../records/record.resolver';
import { CodeHasher } from '../otp/codes';
import { DeliveryQueue } from '../otp/delivery/delivery-queue';
import { DeliveryWorker } from '../otp/delivery/delivery-worker';
import { createProviders } from '../otp/delivery/providers';
import { OtpLimits } from '../otp/otp-limits';
import { OtpResolver } from '../otp/otp.resolver';
import { OtpService } from '../otp/otp.service';
import { MessageTemplateResolver } from '../otp/templates/message-template.resolver';
import { MessageTemplateService } from '../otp/templates/message-template.service';

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
  otp: OtpService;
  messageTemplates: MessageTemplateService;
  resolverFor(resolverClass: Function): unknown;
  /** Starts background work: the OTP delivery queue and, when OTP_WORKER is on, its worker. */
  start(): Promise<void>;
  /** Stops background work (workers, listeners) before the pool closes. */
  stop(): Promise<void>;
}

export function createServices(db: DataSource, deps: ServiceDeps): Services {
  const { config, log, metrics } = deps;
  const pool = (db.driver as unknown as { master: Pool }).master;
  const users = new UserService(db);
  const apiKeys = new ApiKeyService(db);
  const records = new RecordService(db);
  const hasher = new CodeHasher(deps.secretKey);
  const queue = new DeliveryQueue(pool, config, log.child({ component: 'otp-delivery' }));
  const otp = new OtpService(db, { config, hasher, limits: new OtpLimits(pool, config), queue, metrics, log });
  const messageTemplates = new MessageTemplateService(db);
  const resolvers = new Map<Function, unknown>([
    [UserResolver, new UserResolver(users)],
    [ApiKeyResolver, new ApiKeyResolver(apiKeys)],
    [RecordResolver, new RecordResolver(records)],
    [OtpResolver, new OtpResolver(otp)],
    [MessageTemplateResolver, new MessageTemplateResolver(messageTemplates)],
  ]);
  let providers: ReturnType<typeof createProviders> | null = null;
  return {
    users,
    apiKeys,
    records,
    otp,
    messageTemplates,
    resolverFor(resolverClass) {
      const resolver = resolvers.get(resolverClass);
      if (!resolver) throw new Error(`No instance registered for resolver ${resolverClass.name}`);
      return resolver;
    },
    async start() {
      await queue.start();
      if (!config.OTP_WORKER) return;
      providers = createProviders(config, log);
      const worker = new DeliveryWorker(db, providers, hasher, metrics, log.child({ component: 'otp-delivery' }));
      await queue.work((job) => worker.deliver(job));
    },
    async stop() {
      await queue.stop();
      providers?.close();
    },
  };
}
