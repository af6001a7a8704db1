import type { DataSource } from 'typeorm';
import type { RequestContext } from '../core/context';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isUuid } from '../core/ids';
import { queryRows, type Queryable } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { connectionEvent } from './connection.events';
import { findModule } from '../records/modules';
import type { RecordEntity } from '../records/record.entity';
import type { RecordService } from '../records/record.service';
import { liveRecordJoinSql } from '../records/record.sql';
import { toConnectionTypeEntity, type ConnectionTypeEntity } from './connection-type.entity';
import { CONNECTION_COLUMNS, NO_OVERLAP_CONSTRAINT, toConnectionEntity, type ConnectionEntity } from './connection.entity';
import { checkProperties } from './connection-properties';
import {
  MAX_BATCH, type ConnectionFilterInput, type CreateConnectionInput, type CreateConnectionResult, type UpdateConnectionInput,
} from './connection.types';
import { loadConnectionPage } from './connection.query';
import { setHistoryActor } from './connection-history';
import { contextRecordErrors } from './connection-context';
import { insertConnection } from './connection-writes';

const PG_EXCLUSION_VIOLATION = '23P01';
const PG_FOREIGN_KEY_VIOLATION = '23503';

type Endpoint = Pick<RecordEntity, 'id' | 'module' | 'label'>;

/** Creating, changing and deleting connections: live endpoints of allowed modules, no duplicates, valid properties and dates. */
export class ConnectionService {
  constructor(private readonly db: DataSource, private readonly records: RecordService, private readonly events: EventPublisher) {}

  /** A connection whose two records are both visible (not soft-deleted), or null. */
  async get(id: string): Promise<ConnectionEntity | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query(
      `SELECT ${CONNECTION_COLUMNS} FROM connections c
         ${liveRecordJoinSql('s', 'c.source_id')}
         ${liveRecordJoinSql('g', 'c.target_id')}
        WHERE c.id = $1`,
      [id],
    );
    return rows[0] ? toConnectionEntity(rows[0]) : null;
  }

  /** Root listing for admins; ids that are not UUIDs match nothing. */
  async page(filter: ConnectionFilterInput | null | undefined, first: number, after: string | null | undefined): ReturnType<typeof loadConnectionPage> {
    const typeIds = filter?.typeIds ? filter.typeIds.filter(isUuid) : null;
    const recordId = filter?.recordId ?? null;
    if (typeIds?.length === 0 || (recordId !== null && !isUuid(recordId))) return { rows: [], count: async () => 0 };
    return loadConnectionPage(this.db, { typeIds, status: filter?.status ?? null, recordId }, first, after ?? null);
  }

  /**
   * Runs in a transaction holding share locks on the type and both records, so a concurrent type change (policy
   * checks) or record deletion waits for it instead of missing the new connection.
   */
  async create(ctx: RequestContext, input: CreateConnectionInput): Promise<ConnectionEntity> {
    let probe: DuplicateProbe | null = null;
    try {
      return await this.db.transaction(async (tx) => {
        await setHistoryActor(tx, ctx.user.id);
        const type = await this.findType(tx, input.typeId);
        const endpoints = new Map((await this.records.lockLiveForShare(tx, [input.sourceId, input.targetId, input.contextRecordId ?? ''])).map((r) => [r.id, r]));
        const source = endpoints.get(String(input.sourceId).toLowerCase()) ?? null;
        const target = endpoints.get(String(input.targetId).toLowerCase()) ?? null;
        const errors: UserError[] = [];
        if (!type) errors.push(new UserError(ErrorCode.NOT_FOUND, 'No connection type has this id.', ['typeId']));
        else if (!type.active) errors.push(new UserError(ErrorCode.INVALID, `The connection type "${type.name}" is inactive and takes no new connections.`, ['typeId']));
        if (!source) errors.push(new UserError(ErrorCode.NOT_FOUND, 'No record has this id.', ['sourceId']));
        if (!target) errors.push(new UserError(ErrorCode.NOT_FOUND, 'No record has this id.', ['targetId']));
        if (type && source && target) errors.push(...endpointErrors(type, source, target));
        const checked = checkProperties(type?.properties ?? [], input.properties ?? {});
        if (type) errors.push(...checked.errors);
        errors.push(...dateErrors(input.startDate ?? null, input.endDate ?? null));
        if (type) errors.push(...contextRecordErrors(type, input.contextRecordId ?? null, endpoints));
        if (errors.length) throw new UserErrorException(errors);

        probe = {
          type: type!, sourceId: source!.id, targetId: target!.id, startDate: input.startDate ?? null, endDate: input.endDate ?? null,
        };
        await lockPair(tx, probe);
        await this.assertNoDuplicate(tx, probe, null);
        const connection = await insertConnection(tx, {
          typeId: type!.id, sourceId: probe.sourceId, targetId: probe.targetId, symmetric: type!.symmetric, startDate: probe.startDate,
          endDate: probe.endDate, properties: checked.properties, notes: input.notes?.trim() || null,
          contextRecordId: input.contextRecordId ? input.contextRecordId.toLowerCase() : null, createdById: ctx.user.id,
        });
        await this.events.publish(tx, connectionEvent('connection.created', connection));
        return connection;
      });
    } catch (error) {
      throw await this.translateWriteError(error, probe, null);
    }
  }

  /** Each item saved or refused on its own; a refused item never stops the others. */
  async createMany(ctx: RequestContext, inputs: CreateConnectionInput[]): Promise<CreateConnectionResult[]> {
    if (inputs.length > MAX_BATCH) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `A batch takes at most ${MAX_BATCH} connections.`, ['inputs']);
    }
    const results: CreateConnectionResult[] = [];
    for (const [index, input] of inputs.entries()) {
      try {
        results.push({ index, connection: await this.create(ctx, input), userErrors: [] });
      } catch (error) {
        if (!(error instanceof UserErrorException)) throw error;
        results.push({ index, connection: null, userErrors: error.userErrors.map((e) => new UserError(e.code, e.message, ['inputs', String(index), ...(e.field ?? [])])) });
      }
    }
    return results;
  }

  /** Locks the type (shared) before the connection, in the same order as a type change, so the two never deadlock. */
  async update(ctx: RequestContext, id: string, input: UpdateConnectionInput): Promise<ConnectionEntity> {
    let probe: DuplicateProbe | null = null;
    const found = await this.get(id);
    if (!found) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No connection has this id.', ['id']);
    try {
      return await this.db.transaction(async (tx) => {
        await setHistoryActor(tx, ctx.user.id);
        const type = (await this.findType(tx, found.typeId))!;
        const rows = await tx.query(`SELECT ${CONNECTION_COLUMNS} FROM connections c WHERE c.id = $1 FOR UPDATE`, [found.id]);
        if (!rows[0]) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No connection has this id.', ['id']);
        const current = toConnectionEntity(rows[0]);
        const startDate = input.startDate === undefined ? current.startDate : input.startDate;
        const endDate = input.endDate === undefined ? current.endDate : input.endDate;
        const checked = input.properties == null
          ? { properties: current.properties, errors: [] }
          : checkProperties(type.properties, input.properties, current.properties);
        const contextRecordId = input.contextRecordId === undefined ? current.contextRecordId : input.contextRecordId;
        const context = contextRecordId && contextRecordId !== current.contextRecordId
          ? new Map((await this.records.lockLiveForShare(tx, [contextRecordId])).map((r) => [r.id, r]))
          : null;
        const errors = [...checked.errors, ...dateErrors(startDate, endDate), ...(context ? contextRecordErrors(type, contextRecordId, context) : [])];
        if (errors.length) throw new UserErrorException(errors);
        probe = { type, sourceId: current.sourceId, targetId: current.targetId, startDate, endDate };
        await lockPair(tx, probe);
        await this.assertNoDuplicate(tx, probe, current.id);
        const [row] = await queryRows(tx,
          `UPDATE connections c SET start_date = $2, end_date = $3, properties = $4, notes = $5, context_record_id = $6, updated_at = now()
            WHERE c.id = $1 RETURNING ${CONNECTION_COLUMNS}`,
          [current.id, startDate, endDate, JSON.stringify(checked.properties), input.notes === undefined ? current.notes : input.notes?.trim() || null,
            contextRecordId ? contextRecordId.toLowerCase() : null],
        );
        const connection = toConnectionEntity(row);
        // an end date given (or moved) ends the connection on that day
        if (endDate !== null && endDate !== current.endDate) await this.events.publish(tx, connectionEvent('connection.ended', connection));
        return connection;
      });
    } catch (error) {
      throw await this.translateWriteError(error, probe, found.id);
    }
  }

  /** Deletes for good; the history keeps the deletion (and what was deleted), so `asOf` lists still show it before that day. */
  async delete(ctx: RequestContext, id: string): Promise<ConnectionEntity> {
    const current = await this.get(id);
    if (!current) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No connection has this id.', ['id']);
    await this.events.withEvents(this.db, async (tx) => {
      await setHistoryActor(tx, ctx.user.id);
      await tx.query('DELETE FROM connections WHERE id = $1', [current.id]);
    }, () => connectionEvent('connection.deleted', current));
    return current;
  }

  /** The type, share-locked for the rest of the transaction. */
  private async findType(tx: Queryable, id: string): Promise<ConnectionTypeEntity | null> {
    if (!isUuid(id)) return null;
    const rows = await tx.query('SELECT * FROM connection_types WHERE id = $1 FOR SHARE', [id]);
    return rows[0] ? toConnectionTypeEntity(rows[0]) : null;
  }

  private async assertNoDuplicate(db: Queryable, probe: DuplicateProbe, exceptId: string | null): Promise<void> {
    const existing = await findOverlapping(db, probe, exceptId);
    if (existing) throw duplicateError(probe.type, existing);
  }

  /**
   * A write that lost a race, seen after its transaction rolled back: the exclusion constraint means a duplicate
   * committed meanwhile (looked up to name it), a foreign key a record deleted meanwhile.
   */
  private async translateWriteError(error: unknown, probe: DuplicateProbe | null, exceptId: string | null): Promise<unknown> {
    const pgError = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
    const code = pgError.driverError?.code ?? pgError.code;
    const constraint = pgError.driverError?.constraint ?? pgError.constraint;
    if (code === PG_EXCLUSION_VIOLATION && constraint === NO_OVERLAP_CONSTRAINT && probe) {
      const existing = await findOverlapping(this.db, probe, exceptId);
      return existing ? duplicateError(probe.type, existing) : UserErrorException.of(ErrorCode.DUPLICATE_CONNECTION, 'An overlapping connection was saved at the same time; reload and try again.', ['typeId']);
    }
    if (code === PG_FOREIGN_KEY_VIOLATION) return UserErrorException.of(ErrorCode.NOT_FOUND, 'One of the records was deleted meanwhile.', ['sourceId']);
    return error;
  }
}

/** What a new or changed connection would occupy: one type, two records, a date range. */
export interface DuplicateProbe {
  type: ConnectionTypeEntity;
  sourceId: string;
  targetId: string;
  startDate: string | null;
  endDate: string | null;
}

/**
 * Writers of the same type and pair of records queue here, so each sees the others' committed rows in its duplicate
 * check. Without it, concurrent inserts wait on each other inside the exclusion constraint and Postgres breaks the
 * resulting deadlocks by aborting some of them; the constraint stays as the storage-level guarantee.
 */
export async function lockPair(tx: Queryable, probe: DuplicateProbe): Promise<void> {
  const [low, high] = [probe.sourceId, probe.targetId].sort();
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`connection:${probe.type.id}:${low}:${high}`]);
}

/** The oldest connection of the probe's type between the same records (either order when symmetric) with overlapping dates. */
export async function findOverlapping(db: Queryable, probe: DuplicateProbe, exceptId: string | null, alsoExcept: string[] = []): Promise<ConnectionEntity | null> {
  const rows = await db.query(
    `SELECT ${CONNECTION_COLUMNS} FROM connections c
      WHERE c.type_id = $1 AND ($5::uuid IS NULL OR c.id <> $5) AND NOT (c.id = ANY($8::uuid[]))
        AND ((c.source_id = $2 AND c.target_id = $3) OR ($4 AND c.source_id = $3 AND c.target_id = $2))
        AND daterange(COALESCE(c.start_date, '-infinity'::date), COALESCE(c.end_date, 'infinity'::date), '[]')
            && daterange(COALESCE($6::date, '-infinity'::date), COALESCE($7::date, 'infinity'::date), '[]')
      ORDER BY c.created_at LIMIT 1`,
    [probe.type.id, probe.sourceId, probe.targetId, probe.type.symmetric, exceptId, probe.startDate, probe.endDate, alsoExcept],
  );
  return rows[0] ? toConnectionEntity(rows[0]) : null;
}

function duplicateError(type: ConnectionTypeEntity, existing: ConnectionEntity): UserErrorException {
  const span = `${existing.startDate ?? 'always'} – ${existing.endDate ?? 'open-ended'}`;
  return UserErrorException.of(ErrorCode.DUPLICATE_CONNECTION,
    `These records are already connected as "${type.name}" for overlapping dates (${span}): connection ${existing.id}.`, ['typeId']);
}

/** Endpoints must be of the type's modules (either way round for symmetric types) and differ unless the type allows self-links. */
export function endpointErrors(type: ConnectionTypeEntity, source: Endpoint, target: Endpoint): UserError[] {
  const errors: UserError[] = [];
  const fits = (a: Endpoint, b: Endpoint) => type.sourceModules.includes(a.module) && type.targetModules.includes(b.module);
  if (!fits(source, target) && !(type.symmetric && fits(target, source))) {
    const single = (names: string[]) => names.map((n) => findModule(n)?.singular ?? n).join(' or ');
    if (!type.sourceModules.includes(source.module) && !(type.symmetric && type.targetModules.includes(source.module))) {
      errors.push(new UserError(ErrorCode.INVALID, `"${type.name}" starts from a ${single(type.sourceModules)}, not a ${single([source.module])}.`, ['sourceId']));
    }
    if (!type.targetModules.includes(target.module) && !(type.symmetric && type.sourceModules.includes(target.module))) {
      errors.push(new UserError(ErrorCode.INVALID, `"${type.name}" points to a ${single(type.targetModules)}, not a ${single([target.module])}.`, ['targetId']));
    }
    if (errors.length === 0) errors.push(new UserError(ErrorCode.INVALID, `"${type.name}" does not link a ${single([source.module])} to a ${single([target.module])}.`, ['targetId']));
  }
  if (source.id === target.id && !type.allowSelf) {
    errors.push(new UserError(ErrorCode.INVALID, `"${type.name}" cannot connect a record to itself.`, ['targetId']));
  }
  return errors;
}

export function dateErrors(startDate: string | null, endDate: string | null): UserError[] {
  return startDate && endDate && startDate > endDate
    ? [new UserError(ErrorCode.INVALID, `The end date (${endDate}) is before the start date (${startDate}).`, ['endDate'])]
    : [];
}
