import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { isUuid } from '../core/ids';
import { preparedQueriesOf } from '../db/pipelined-sql';
import { toRecordEntityFromJson, type RecordEntity } from './record.entity';

declare module '../core/context' {
  interface Loaders {
    /** Includes soft-deleted records; callers decide whether to show them. A merged id answers its survivor. */
    records: DataLoader<string, RecordEntity | null>;
  }
}

/**
 * Records by id, soft-deleted ones included (callers decide whether to show them). A merged record's id answers the
 * record it was merged into (one step: merges repoint earlier merged records), like HubSpot's merged ids.
 */
export function recordsLoader(source: DataSource): DataLoader<string, RecordEntity | null> {
  const db = preparedQueriesOf(source); // planned once per connection
  return new DataLoader<string, RecordEntity | null>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows: Array<Record<string, any>> = valid.length
      ? await db.query(
        `SELECT r.id AS asked, CASE WHEN s.id IS NULL THEN to_jsonb(r) ELSE to_jsonb(s) END AS answer
           FROM records r LEFT JOIN records s ON s.id = r.merged_into
          WHERE r.id = ANY($1::uuid[])`, [valid])
      : [];
    const byId = new Map(rows.map((row) => [String(row.asked), toRecordEntityFromJson(row.answer)]));
    return ids.map((id) => byId.get(String(id).toLowerCase()) ?? null);
  }, { maxBatchSize: 1000 });
}
