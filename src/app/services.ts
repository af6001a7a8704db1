import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { AppConfig } from './config';
import { ApiKeyService } from '../auth/api-key.service';
import { UserService } from '../auth/user.service';
import { ApiKeyResolver, UserResolver } from '../auth/auth.resolver';
import { RecordService } from '../records/record.service';
import { RecordResolver } from '../records/record.resolver';
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
  connectionTypes: ConnectionTypeService;
  connections: ConnectionService;
  connectionIntegrity: IntegrityService;
  resolverFor(resolverClass: Function): unknown;
  /** Stops background work (workers, listeners) before the pool closes. */
  stop(): Promise<void>;
}

export function createServices(db: DataSource, _deps: ServiceDeps): Services {
  const users = new UserService(db);
  const apiKeys = new ApiKeyService(db);
  const records = new RecordService(db);
  const connectionTypes = new ConnectionTypeService(db);
  const connections = new ConnectionService(db);
  const connectionIntegrity = new IntegrityService(db);
  const resolvers = new Map<Function, unknown>([
    [UserResolver, new UserResolver(users)],
    [ApiKeyResolver, new ApiKeyResolver(apiKeys)],
    [RecordResolver, new RecordResolver(records)],
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
    connectionTypes,
    connections,
    connectionIntegrity,
    resolverFor(resolverClass) {
      const resolver = resolvers.get(resolverClass);
      if (!resolver) throw new Error(`No instance registered for resolver ${resolverClass.name}`);
      return resolver;
    },
    async stop() {},
  };
}
