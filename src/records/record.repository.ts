import { isUuid } from '../core/ids';
import { queryRows, type Queryable } from '../db/sql';
import { toRecordEntity, type RecordEntity, type RecordFields } from './record.entity';
import type { RecordQuery } from './record.query';
import { liveRecordSql } from './record.sql';

/** What a new record is saved with; its owner is the acting user. */
export interface NewRecord {
  label: string;
  fields: RecordFields;
}

/**
 * Every statement on the `records` table (record.query.ts builds the searches it runs). Statements that must join a
 * caller's transaction take it as `tx`; ids that are not UUIDs match nothing and never reach Postgres.
 */
export class RecordRepository {
  /**
   * `hot` (default: `db`) runs a plain save's read and write, outside any transaction: the service passes a pool whose
   * statements are prepared once per connection (`preparedQueries`).
   */
  constructor(private readonly db: Queryable, private readonly hot: Queryable = db) {}

  /** The live records among `ids`, in no particular order, read through `q` (the pool unless given a transaction). */
  async findLive(ids: readonly string[], q: Queryable = this.db): Promise<RecordEntity[]> {
    const valid = uuids(ids);
    if (valid.length === 0) return [];
    const rows: Array<Record<string, any>> = await q.query(`SELECT * FROM records WHERE id = ANY($1::uuid[]) AND ${liveRecordSql('records')}`, [valid]);
    return rows.map(toRecordEntity);
  }

  /** The live records among `ids`, share-locked (in id order) so that they cannot be deleted before `tx` ends. */
  async lockLiveForShare(tx: Queryable, ids: readonly string[]): Promise<RecordEntity[]> {
    const valid = uuids(ids);
    if (valid.length === 0) return [];
    const rows: Array<Record<string, any>> = await tx.query(
      `SELECT * FROM records WHERE id = ANY($1::uuid[]) AND ${liveRecordSql('records')} ORDER BY id FOR SHARE`, [valid]);
    return rows.map(toRecordEntity);
  }

  /**
   * The live records among `ids`, locked against other writers (and against share-locking linkers such as a new
   * connection) until `tx` ends. Locks are taken in id order, so two merges of overlapping records never deadlock.
   */
  async lockLiveForUpdate(tx: Queryable, ids: readonly string[]): Promise<RecordEntity[]> {
    const valid = uuids(ids);
    if (valid.length === 0) return [];
    const rows: Array<Record<string, any>> = await tx.query(
      `SELECT * FROM records WHERE id = ANY($1::uuid[]) AND ${liveRecordSql('records')} ORDER BY id FOR NO KEY UPDATE`, [valid]);
    return rows.map(toRecordEntity);
  }

  /**
   * Soft-deletes `ids` as merged into `survivorId`, and points records merged into them earlier at the survivor too, so
   * a merged id is always one step from the record that answers for it.
   */
  async markMerged(tx: Queryable, ids: readonly string[], survivorId: string): Promise<void> {
    await tx.query(
      'UPDATE records SET deleted_at = now(), merged_into = $2, version = version + 1, updated_at = now() WHERE id = ANY($1::uuid[])',
      [ids, survivorId]);
    await tx.query('UPDATE records SET merged_into = $2 WHERE merged_into = ANY($1::uuid[])', [ids, survivorId]);
  }

  /** The live record with this id, locked against other writers until `tx` ends, or null. */
  async lockForUpdate(tx: Queryable, id: string): Promise<RecordEntity | null> {
    return this.lock(tx, id, `AND ${liveRecordSql('records')}`);
  }

  /** The record with this id, soft-deleted or not, locked until `tx` ends (a hard delete also removes deleted ones), or null. */
  async lockForDelete(tx: Queryable, id: string): Promise<RecordEntity | null> {
    return this.lock(tx, id, '');
  }

  private async lock(tx: Queryable, id: string, condition: string): Promise<RecordEntity | null> {
    if (!isUuid(id)) return null;
    const [row] = await tx.query(`SELECT * FROM records WHERE id = $1 ${condition} FOR NO KEY UPDATE`, [id]);
    return row ? toRecordEntity(row) : null;
  }

  /**
   * One page of a search, each record with its sort value (what its cursor is made of, when one is asked for), and the
   * search's total (counted only when asked).
   */
  async page(query: RecordQuery, first: number, after: string | null | undefined): Promise<{ records: RecordEntity[]; sortValues: Map<RecordEntity, string>; count: () => Promise<number> }> {
    // The count needs only the filters' parameters; the page adds the cursor's after them.
    const countSql = query.countSql();
    const countParams = [...query.params];
    const rows: Array<Record<string, any>> = await this.db.query(query.pageSql(first, after), query.params);
    const records: RecordEntity[] = [];
    const sortValues = new Map<RecordEntity, string>();
    for (const row of rows) {
      const record = toRecordEntity(row);
      records.push(record);
      sortValues.set(record, row.sort_value);
    }
    return { records, sortValues, count: async () => (await this.db.query(countSql, countParams))[0].count };
  }

  async insert(tx: Queryable, module: string, ownerId: string, record: NewRecord): Promise<RecordEntity> {
    const [row] = await tx.query(
      `INSERT INTO records (module, label, fields, owner_id) VALUES ($1, $2, $3, $4) RETURNING *`,
      [module, record.label, record.fields, ownerId],
    );
    return toRecordEntity(row);
  }

  /** Inserts in one statement; the records come back in the order given. */
  async insertMany(tx: Queryable, module: string, ownerId: string, records: NewRecord[]): Promise<RecordEntity[]> {
    const inserted: Array<Record<string, any>> = await tx.query(
      `INSERT INTO records (module, label, fields, owner_id)
       SELECT $1, x.label, x.fields, $2 FROM jsonb_to_recordset($3::jsonb) AS x(label text, fields jsonb, ord int)
       ORDER BY x.ord RETURNING *`,
      [module, ownerId, JSON.stringify(records.map((r, ord) => ({ label: r.label, fields: r.fields, ord })))],
    );
    return inserted.map(toRecordEntity);
  }

  /** Saves new fields and label, moving the version on. */
  async update(tx: Queryable, id: string, record: NewRecord): Promise<RecordEntity> {
    const [row] = await queryRows(tx,
      `UPDATE records SET fields = $2, label = $3, version = version + 1, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, record.fields, record.label],
    );
    return toRecordEntity(row);
  }

  /** The live record with this id, or null, read without a lock (a plain save's read; see `updateAtVersion`). */
  async findLiveToSave(id: string): Promise<RecordEntity | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.hot.query(`SELECT * FROM records WHERE id = $1 AND ${liveRecordSql('records')}`, [id]);
    return row ? toRecordEntity(row) : null;
  }

  /**
   * Saves new fields and label in one autocommit statement, only if the record is still live and at `version` (every
   * write of a record's fields moves its version on): null when it is not, and nothing is written.
   */
  async updateAtVersion(id: string, version: number, record: NewRecord): Promise<RecordEntity | null> {
    const [row] = await queryRows(this.hot,
      `UPDATE records SET fields = $3, label = $4, version = version + 1, updated_at = now()
        WHERE id = $1 AND version = $2 AND ${liveRecordSql('records')} RETURNING *`,
      [id, version, record.fields, record.label],
    );
    return row ? toRecordEntity(row) : null;
  }

  async softDelete(tx: Queryable, id: string): Promise<RecordEntity> {
    const [row] = await queryRows(tx, 'UPDATE records SET deleted_at = now() WHERE id = $1 RETURNING *', [id]);
    return toRecordEntity(row);
  }

  async hardDelete(tx: Queryable, id: string): Promise<void> {
    await tx.query('DELETE FROM records WHERE id = $1', [id]);
  }

  /** Brings a soft-deleted record back; null when no soft-deleted record has this id (merged records stay merged). */
  async restore(id: string): Promise<RecordEntity | null> {
    if (!isUuid(id)) return null;
    const [row] = await queryRows(this.db, `UPDATE records SET deleted_at = NULL WHERE id = $1 AND NOT ${liveRecordSql('records')} AND merged_into IS NULL RETURNING *`, [id]);
    return row ? toRecordEntity(row) : null;
  }
}

/** The UUIDs among `ids`, lower-cased and without repeats (the form Postgres answers them in). */
function uuids(ids: readonly string[]): string[] {
  return [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
}
