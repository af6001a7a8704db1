import type { DataSource } from 'typeorm';
import { defineFeature } from '../core/feature';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import { RecordEntity } from './record.entity';
import { recordsLoader } from './record.loaders';
import { RecordResolver } from './record.resolver';
import { RecordService } from './record.service';

export interface RecordsNeeds {
  db: DataSource;
  /** createRecord takes an idempotency key. */
  idempotency: IdempotencyService;
}

/** CRM records of the modules defined in code; later features register save guards on its service. */
export const recordsFeature = defineFeature({
  name: 'records',
  entities: [RecordEntity],
  resolvers: [RecordResolver],
  loaders: (db) => ({ records: recordsLoader(db) }),
  build({ db, idempotency }: RecordsNeeds) {
    const records = new RecordService(db);
    return { services: { records }, resolvers: [new RecordResolver(records, idempotency)] };
  },
});
