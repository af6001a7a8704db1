import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader } from '../common/loader';
import { toRecordEntity, type RecordEntity } from './record.entity';

/** Records by id, soft-deleted ones included (callers decide whether to show them). */
export function recordsLoader(db: DataSource): DataLoader<string, RecordEntity | null> {
  return byIdLoader(db, 'records', toRecordEntity);
}
