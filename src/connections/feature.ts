import type { DataSource } from 'typeorm';
import { defineFeature } from '../core/feature';
import type { EventPublisher } from '../events/event-publisher';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import type { RecordService } from '../records/record.service';
import { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionTypeResolver } from './connection-type.resolver';
import { ConnectionTypeService } from './connection-type.service';
import { ConnectionEntity } from './connection.entity';
import { ConnectionHistoryEntity } from './connection-history.entity';
import { createConnectionLoaders } from './connection.loaders';
import { connectedRecordSql } from './connection.query';
import { ConnectionHistoryEntryResolver, ConnectionResolver } from './connection.resolver';
import { ConnectionService } from './connection.service';
import { ConnectionRecordLinks } from './connection-record-links';
import { IntegrityResolver } from './integrity.resolver';
import { ConnectionPathService } from './connection-paths';
import {
  ConflictCheckResultResolver, ConnectionPathResolver, ConnectionPathsResolver, ConnectionPathStepResolver,
} from './connection-paths.resolver';
import { IntegrityService } from './integrity.service';
import {
  RecordConnectionGroupResolver, RecordConnectionGroupsResolver, RecordConnectionResolver, RecordConnectionsResolver,
} from './record-connection.resolver';
import { RecordConnectionsSubscriptionResolver } from './record-connections-subscription.resolver';

export interface ConnectionsNeeds {
  db: DataSource;
  /** Endpoints are checked through the records feature. */
  records: RecordService;
  /** Connections created, ended and deleted are published as domain events. */
  events: EventPublisher;
  /** createConnection takes an idempotency key. */
  idempotency: IdempotencyService;
}

/** Typed connections between records, their types and the integrity report. */
export const connectionsFeature = defineFeature({
  name: 'connections',
  entities: [ConnectionTypeEntity, ConnectionEntity, ConnectionHistoryEntity],
  resolvers: [ConnectionTypeResolver, ConnectionResolver, ConnectionHistoryEntryResolver, RecordConnectionsResolver, RecordConnectionResolver, IntegrityResolver,
    ConnectionPathsResolver, ConnectionPathResolver, ConnectionPathStepResolver, ConflictCheckResultResolver,
    RecordConnectionGroupsResolver, RecordConnectionGroupResolver, RecordConnectionsSubscriptionResolver],
  loaders: (db) => createConnectionLoaders(db),
  build({ db, records, events, idempotency }: ConnectionsNeeds) {
    const connectionTypes = new ConnectionTypeService(db, events);
    const connections = new ConnectionService(db, records, events);
    records.registerConditionProvider({ connectedSql: connectedRecordSql });
    const connectionIntegrity = new IntegrityService(db, events);
    const connectionPaths = new ConnectionPathService(db);
    records.registerLinks(new ConnectionRecordLinks(records, events));
    return {
      services: { connectionTypes, connections, connectionIntegrity, connectionPaths },
      resolvers: [
        new ConnectionTypeResolver(connectionTypes), new ConnectionResolver(connections, idempotency), new ConnectionHistoryEntryResolver(),
        new RecordConnectionsResolver(), new RecordConnectionResolver(), new IntegrityResolver(connectionIntegrity),
        new ConnectionPathsResolver(connectionPaths), new ConnectionPathResolver(), new ConnectionPathStepResolver(), new ConflictCheckResultResolver(),
        new RecordConnectionGroupsResolver(), new RecordConnectionGroupResolver(), new RecordConnectionsSubscriptionResolver(),
      ],
    };
  },
});
