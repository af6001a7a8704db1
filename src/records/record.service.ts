import type { DataSource, EntityManager } from 'typeorm';
import type { RequestContext } from '../app/context';
import { ErrorCode, UserError, UserErrorException } from '../common/errors';
import { isUuid } from '../common/ids';
import type { PageSource } from '../common/pagination';
import { queryRows } from '../db/sql';
import { findModule, labelOf, type ModuleDefinition } from './modules';
import { RecordEntity, type RecordFields } from './record.entity';
import { RecordQuery, type RecordFilter, type RecordOrder } from './record.query';
import { checkFields, type FieldCheck } from './record.validation';
import type { OtpCredential, RecordSaveGuard } from './save-guard';

export const MAX_IMPORT_ROWS = 1000;

export interface ImportRowResult {
  row: number;
  record: RecordEntity | null;
  userErrors: UserError[];
}

/** Maps a `records` row as Postgres returns it to the entity. */
export function toRecordEntity(row: Record<string, any>): RecordEntity {
  return Object.assign(new RecordEntity(), {
    id: row.id,
    module: row.module,
    label: row.label,
    fields: row.fields,
    ownerId: row.owner_id,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  });
}

export class RecordService {
  private readonly guards: RecordSaveGuard[] = [];

  constructor(private readonly db: DataSource) {}

  /** Features that must approve saves (OTP rules) register here at start. */
  registerGuard(guard: RecordSaveGuard): void {
    this.guards.push(guard);
  }

  module(name: string, field: string[] = ['module']): ModuleDefinition {
    const module = findModule(name);
    if (!module) throw UserErrorException.of(ErrorCode.NOT_FOUND, `There is no module "${name}".`, field);
    return module;
  }

  async page(module: ModuleDefinition, filters: RecordFilter[], orderBy: RecordOrder, first: number, after: string | null | undefined, includeDeleted: boolean): Promise<PageSource<RecordEntity>> {
    const query = new RecordQuery(module, filters, orderBy, includeDeleted);
    // The count needs only the filters' parameters; the page adds the cursor's after them.
    const countSql = query.countSql();
    const countParams = [...query.params];
    const rows: Array<Record<string, any>> = await this.db.query(query.pageSql(first, after), query.params);
    const cursors = new Map<RecordEntity, string>();
    const records = rows.map((row) => {
      const record = toRecordEntity(row);
      cursors.set(record, query.cursorOf({ id: row.id, sort_value: row.sort_value }));
      return record;
    });
    return {
      rows: records,
      first,
      cursorOf: (record) => cursors.get(record)!,
      count: async () => (await this.db.query(countSql, countParams))[0].count,
    };
  }

  async create(ctx: RequestContext, moduleName: string, rawFields: unknown): Promise<RecordEntity> {
    const module = this.module(moduleName);
    const { fields: change, reserved } = this.splitReserved(rawFields);
    const check = checkFields(module, change);
    return this.withAfterTransaction((afterTransaction) => this.db.transaction(async (tx) => {
      await this.assertValid(tx, check);
      await this.runGuards(tx, { ctx, module, operation: 'create', before: null, after: check.fields, otp: [], reservedFields: reserved, afterTransaction });
      const [row] = await tx.query(
        `INSERT INTO records (module, label, fields, owner_id) VALUES ($1, $2, $3, $4) RETURNING *`,
        [module.name, labelOf(module, check.fields), check.fields, ctx.user.id],
      );
      return toRecordEntity(row);
    }));
  }

  async update(ctx: RequestContext, id: string, rawFields: unknown, expectedVersion: number | null | undefined, otp: OtpCredential[]): Promise<RecordEntity> {
    const { fields: change, reserved } = this.splitReserved(rawFields);
    return this.withAfterTransaction((afterTransaction) => this.db.transaction(async (tx) => {
      const before = await this.lockForUpdate(tx, id);
      if (expectedVersion != null && expectedVersion !== before.version) {
        throw UserErrorException.of(ErrorCode.CONFLICT, `The record was changed by someone else (version ${before.version}, expected ${expectedVersion}); reload and try again.`, ['expectedVersion']);
      }
      const module = this.module(before.module);
      const check = checkFields(module, change, before.fields);
      await this.assertValid(tx, check);
      await this.runGuards(tx, { ctx, module, operation: 'update', before, after: check.fields, otp, reservedFields: reserved, afterTransaction });
      const [row] = await queryRows(tx,
        `UPDATE records SET fields = $2, label = $3, version = version + 1, updated_at = now() WHERE id = $1 RETURNING *`,
        [id, check.fields, labelOf(module, check.fields)],
      );
      return toRecordEntity(row);
    }));
  }

  /** Runs `save`, then the work guards asked for once its transaction has ended (committed or rolled back). */
  private async withAfterTransaction<T>(save: (afterTransaction: (task: () => Promise<void>) => void) => Promise<T>): Promise<T> {
    const tasks: Array<() => Promise<void>> = [];
    try {
      return await save((task) => tasks.push(task));
    } finally {
      for (const task of tasks) await task().catch(() => undefined); // a guard reports its own failures; the save's answer stands
    }
  }

  /** Soft delete hides the record (and what hangs off it); hard delete removes it for good. */
  async delete(id: string, hard: boolean): Promise<RecordEntity> {
    return this.db.transaction(async (tx) => {
      const record = await this.lockForUpdate(tx, id, true);
      if (hard) {
        await tx.query('DELETE FROM records WHERE id = $1', [id]);
        return record;
      }
      if (record.deletedAt) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No record has this id.', ['id']);
      const [row] = await queryRows(tx, 'UPDATE records SET deleted_at = now() WHERE id = $1 RETURNING *', [id]);
      return toRecordEntity(row);
    });
  }

  async restore(id: string): Promise<RecordEntity> {
    const rows = isUuid(id)
      ? await queryRows(this.db, 'UPDATE records SET deleted_at = NULL WHERE id = $1 AND deleted_at IS NOT NULL RETURNING *', [id])
      : [];
    if (!rows[0]) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No deleted record has this id.', ['id']);
    return toRecordEntity(rows[0]);
  }

  /** Bulk load, exempt from save guards: each valid row is saved, each invalid one reported with its index. */
  async import(ctx: RequestContext, moduleName: string, rows: unknown[]): Promise<ImportRowResult[]> {
    const module = this.module(moduleName);
    if (rows.length > MAX_IMPORT_ROWS) {
      throw UserErrorException.of(ErrorCode.LIMIT_REACHED, `An import takes at most ${MAX_IMPORT_ROWS} rows.`, ['rows']);
    }
    return this.db.transaction(async (tx) => {
      const checks = rows.map((raw) => checkFields(module, this.splitReserved(raw).fields));
      const missing = await this.missingReferences(tx, checks.flatMap((c) => c.references));
      const results: ImportRowResult[] = checks.map((check, row) => ({
        row,
        record: null,
        userErrors: [...check.errors, ...this.referenceErrors(check, missing)],
      }));
      const valid = results.filter((r) => r.userErrors.length === 0);
      if (valid.length > 0) {
        const inserted: Array<Record<string, any>> = await tx.query(
          `INSERT INTO records (module, label, fields, owner_id)
           SELECT $1, x.label, x.fields, $2 FROM jsonb_to_recordset($3::jsonb) AS x(label text, fields jsonb, ord int)
           ORDER BY x.ord RETURNING *`,
          [module.name, ctx.user.id, JSON.stringify(valid.map((r, ord) => ({ label: labelOf(module, checks[r.row].fields), fields: checks[r.row].fields, ord })))],
        );
        valid.forEach((result, i) => (result.record = toRecordEntity(inserted[i])));
      }
      return results;
    });
  }

  private async lockForUpdate(tx: EntityManager, id: string, includeDeleted = false): Promise<RecordEntity> {
    const rows = isUuid(id)
      ? await tx.query(`SELECT * FROM records WHERE id = $1 ${includeDeleted ? '' : 'AND deleted_at IS NULL'} FOR NO KEY UPDATE`, [id])
      : [];
    if (!rows[0]) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No record has this id.', ['id']);
    return toRecordEntity(rows[0]);
  }

  private async assertValid(tx: EntityManager, check: FieldCheck): Promise<void> {
    const missing = await this.missingReferences(tx, check.references);
    const errors = [...check.errors, ...this.referenceErrors(check, missing)];
    if (errors.length) throw new UserErrorException(errors);
  }

  private referenceErrors(check: FieldCheck, missing: Set<string>): UserError[] {
    return check.references
      .filter((ref) => missing.has(`${ref.id}:${ref.modules.join(',')}`))
      .map((ref) => new UserError(ErrorCode.INVALID, `No ${ref.modules.join(' or ')} record has the id ${ref.id}.`, ['fields', ref.field]));
  }

  /** One query for every reference in a save or import; returns the `id:modules` keys that do not resolve. */
  private async missingReferences(tx: EntityManager, references: FieldCheck['references']): Promise<Set<string>> {
    const missing = new Set<string>();
    if (references.length === 0) return missing;
    const ids = [...new Set(references.map((r) => r.id))];
    const found: Array<{ id: string; module: string }> = await tx.query(
      'SELECT id, module FROM records WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL',
      [ids],
    );
    const moduleOf = new Map(found.map((r) => [r.id, r.module]));
    for (const ref of references) {
      if (!ref.modules.includes(moduleOf.get(ref.id) ?? '')) missing.add(`${ref.id}:${ref.modules.join(',')}`);
    }
    return missing;
  }

  private async runGuards(tx: EntityManager, save: Parameters<RecordSaveGuard['beforeSave']>[0]): Promise<void> {
    for (const guard of this.guards) await guard.beforeSave(save, tx);
  }

  /** Separates the keys a guard reserved (e.g. `OTPRULES_OTP_12`) from the record's own fields. */
  private splitReserved(raw: unknown): { fields: unknown; reserved: RecordFields } {
    const prefixes = this.guards.map((g) => g.reservedFieldPrefix?.toLowerCase()).filter((p): p is string => !!p);
    if (prefixes.length === 0 || raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { fields: raw, reserved: {} };
    const fields: RecordFields = {};
    const reserved: RecordFields = {};
    for (const [key, value] of Object.entries(raw)) {
      if (prefixes.some((p) => key.toLowerCase().startsWith(p))) reserved[key] = value;
      else fields[key] = value;
    }
    return { fields, reserved };
  }
}
