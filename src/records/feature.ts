import type { DataSource } from 'typeorm';
import { defineFeature } from '../core/feature';
import { RecordEntity } from './record.entity';
import { recordsLoader } from './record.loaders';
import { RecordResolver } from './record.resolver';
import { RecordService } from './record.service';

export interface RecordsNeeds {
  db: DataSource;
}

/** CRM records of the modules defined in code; later features register save guards on its service. */
export const recordsFeature = defineFeature({
  name: 'records',
  entities: [RecordEntity],
  resolvers: [RecordResolver],
  loaders: (db) => ({ records: recordsLoader(db) }),
  build({ db }: RecordsNeeds) {
    const records = new RecordService(db);
    return { services: { records }, resolvers: [new RecordResolver(records)] };
  },
});
