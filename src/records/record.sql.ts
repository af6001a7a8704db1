/**
 * The `records` table belongs to this feature: its statements live in record.repository.ts (record.query.ts builds
 * the searches), and other features ask RecordService. The one exception: a statement of theirs that would otherwise
 * cost another round trip per page (connections listed with their other record, the integrity report) may join
 * records, through these fragments only, reading `id`, `module` and `label` through the alias, or the whole row as
 * `recordJsonSql` (decoded by `toRecordEntityFromJson`). So a change to the table, or to what "live" means, is made
 * here.
 */

/** The one definition of a live record: not soft-deleted. */
export function liveRecordSql(alias: string): string {
  return `${alias}.deleted_at IS NULL`;
}

/** Joins the record `idColumn` points to as `alias`, soft-deleted or not. */
export function recordJoinSql(alias: string, idColumn: string): string {
  return `JOIN records ${alias} ON ${alias}.id = ${idColumn}`;
}

/** Joins the record `idColumn` points to as `alias`, leaving out rows whose record is soft-deleted. */
export function liveRecordJoinSql(alias: string, idColumn: string): string {
  return `${recordJoinSql(alias, idColumn)} AND ${liveRecordSql(alias)}`;
}

/**
 * The live record `idColumn` points to, as `alias`, looked up by its primary key for each row: a LATERAL subquery with
 * LIMIT 1, which the planner cannot flatten into a join. As a join, the planner hashed the whole records table whenever
 * its statistics promised many rows per record (10^6 connections among 2,000 records: 512 per record on average, so
 * for a record with 2 it scanned all 2,000 records, 25 ms instead of 0.35), and would scan a tenant's every record.
 * Rows whose record is soft-deleted or gone drop out, as with {@link liveRecordJoinSql}; `alias` has every column.
 */
export function liveRecordLookupSql(alias: string, idColumn: string): string {
  return `CROSS JOIN LATERAL (SELECT * FROM records ${alias} WHERE ${alias}.id = ${idColumn} AND ${liveRecordSql(alias)} LIMIT 1) ${alias}`;
}

/** Left-joins the record `idColumn` points to as `alias`: its columns are NULL where the record is gone for good. */
export function optionalRecordJoinSql(alias: string, idColumn: string): string {
  return `LEFT ${recordJoinSql(alias, idColumn)}`;
}

/** The whole joined record as one JSON value, for `toRecordEntityFromJson`. */
export function recordJsonSql(alias: string): string {
  return `to_jsonb(${alias})`;
}
