import type { DataSource } from 'typeorm';
import { defineFeature } from '../core/feature';
import type { EventPublisher } from '../events/event-publisher';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import type { RecordService } from '../records/record.service';
import { ConnectionTypeEntity } from './connection-type.entity';
import { ConnectionTypeResolver } from './connection-type.resolver';
import { ConnectionTypeService } from './connection-type.service';
import { ConnectionEntity } from './connection.entity';
import { createConnectionLoaders } from './connection.loaders';
import { ConnectionResolver } from './connection.resolver';
import { ConnectionService } from './connection.service';
import { ConnectionRecordLinks } from './connection-record-links';
import { IntegrityResolver } from './integrity.resolver';
import { IntegrityService } from './integrity.service';
import { RecordConnectionResolver, RecordConnectionsResolver } from './record-connection.resolver';
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
  entities: [ConnectionTypeEntity, ConnectionEntity],
  resolvers: [ConnectionTypeResolver, ConnectionResolver, RecordConnectionsResolver, RecordConnectionResolver, IntegrityResolver, RecordConnectionsSubscriptionResolver],
  loaders: (db) => createConnectionLoaders(db),
  build({ db, records, events, idempotency }: ConnectionsNeeds) {
    const connectionTypes = new ConnectionTypeService(db);
    const connections = new ConnectionService(db, records, events);
    const connectionIntegrity = new IntegrityService(db);
    records.registerLinks(new ConnectionRecordLinks(records, events));
    return {
      services: { connectionTypes, connections, connectionIntegrity },
      resolvers: [
        new ConnectionTypeResolver(connectionTypes), new ConnectionResolver(connections, idempotency),
        new RecordConnectionsResolver(), new RecordConnectionResolver(), new IntegrityResolver(connectionIntegrity),
        new RecordConnectionsSubscriptionResolver(),
      ],
    };
  },
});
