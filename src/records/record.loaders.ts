import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader } from '../core/loader';
import { toRecordEntity, type RecordEntity } from './record.entity';

declare module '../core/context' {
  interface Loaders {
    /** Includes soft-deleted records; callers decide whether to show them. */
    records: DataLoader<string, RecordEntity | null>;
  }
}

/** Records by id, soft-deleted ones included (callers decide whether to show them). */
export function recordsLoader(db: DataSource): DataLoader<string, RecordEntity | null> {
  return byIdLoader(db, 'records', toRecordEntity);
}
