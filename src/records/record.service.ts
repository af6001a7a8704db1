import type { DataSource, EntityManager } from 'typeorm';
import type { RequestContext } from '../core/context';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import type { PageSource } from '../core/pagination';
import { preparedQueriesOf } from '../db/pipelined-sql';
import type { Queryable } from '../db/sql';
import { findModule, labelOf, type ModuleDefinition } from './modules';
import type { RecordEntity, RecordFields } from './record.entity';
import { RecordQuery, type RecordFilter, type RecordOrder } from './record.query';
import { RecordRepository } from './record.repository';
import { checkFields, type FieldCheck } from './record.validation';
import type { OtpCredential, RecordSaveGuard } from './save-guard';
import type { RecordConditionProvider } from './record-condition';
import type { MergedConnection, NewRecordLink, RecordLinks } from './record-links';
import { applyFieldChoices, mergeArgumentErrors, mergedRecordErrors, type FieldChoice } from './record-merge';

/** What a merge answers: the saved survivor, the ids merged into it, and what happened to each of their connections. */
export interface RecordMergeResult {
  record: RecordEntity;
  mergedIds: string[];
  connections: MergedConnection[];
}

/** An `updateRecord` as asked: the change to the record's fields, with the guards' reserved keys set apart. */
interface RecordUpdate {
  ctx: RequestContext;
  id: string;
  change: unknown;
  reserved: RecordFields;
  expectedVersion: number | null | undefined;
  otp: OtpCredential[];
}

export const MAX_IMPORT_ROWS = 1000;

export interface ImportRowResult {
  row: number;
  record: RecordEntity | null;
  userErrors: UserError[];
}

export class RecordService {
  private readonly guards: RecordSaveGuard[] = [];
  private conditionProvider: RecordConditionProvider | null = null;
  private links: RecordLinks | null = null;
  private readonly repository: RecordRepository;

  constructor(private readonly db: DataSource) {
    this.repository = new RecordRepository(db, preparedQueriesOf(db));
  }

  /** The feature that answers `connected` record filters (connections) registers here at start. */
  registerConditionProvider(provider: RecordConditionProvider): void {
    this.conditionProvider = provider;
  }

  /** Features that must approve saves (OTP rules) register here at start. */
  registerGuard(guard: RecordSaveGuard): void {
    this.guards.push(guard);
  }

  /** The feature whose links follow records (connections) registers here at start. */
  registerLinks(links: RecordLinks): void {
    this.links = links;
  }

  module(name: string, field: string[] = ['module']): ModuleDefinition {
    const module = findModule(name);
    if (!module) throw UserErrorException.of(ErrorCode.NOT_FOUND, `There is no module "${name}".`, field);
    return module;
  }

  async page(module: ModuleDefinition, filters: RecordFilter[], orderBy: RecordOrder, first: number, after: string | null | undefined, includeDeleted: boolean): Promise<PageSource<RecordEntity>> {
    const query = new RecordQuery(module, filters, orderBy, includeDeleted, this.conditionProvider);
    const { records, sortValues, count } = await this.repository.page(query, first, after);
    // cursors are made only for the records whose cursor is asked for (often just the page's last)
    return { rows: records, first, cursorOf: (record) => query.cursorOf({ id: record.id, sort_value: sortValues.get(record)! }), count };
  }

  /** The live (not soft-deleted) record with this id, or null: how other features look a record up. */
  async findLive(id: string): Promise<RecordEntity | null> {
    const [record] = await this.repository.findLive([id]);
    return record ?? null;
  }

  /** Whether a live record has this id. */
  async isLive(id: string): Promise<boolean> {
    return (await this.findLive(id)) !== null;
  }

  /** The live records among `ids`, share-locked so that they cannot be deleted before `tx` ends (e.g. while linked). */
  lockLiveForShare(tx: Queryable, ids: readonly string[]): Promise<RecordEntity[]> {
    return this.repository.lockLiveForShare(tx, ids);
  }

  /** Creates the record and the `links` asked for with it, all or nothing. */
  async create(ctx: RequestContext, moduleName: string, rawFields: unknown, links: NewRecordLink[] = []): Promise<RecordEntity> {
    const module = this.module(moduleName);
    const { fields: change, reserved } = this.splitReserved(rawFields);
    const check = checkFields(module, change);
    if (links.length > 0 && !this.links) throw UserErrorException.of(ErrorCode.INVALID, 'Connections cannot be created here.', ['connections']);
    return this.withAfterTransaction((afterTransaction) => this.db.transaction(async (tx) => {
      await this.assertValid(tx, check);
      await this.runGuards(tx, { ctx, module, operation: 'create', before: null, after: check.fields, otp: [], reservedFields: reserved, afterTransaction });
      const record = await this.repository.insert(tx, module.name, ctx.user.id, { label: labelOf(module, check.fields), fields: check.fields });
      if (links.length > 0) await this.links!.createForNewRecord(ctx, record, links, tx);
      return record;
    }));
  }

  /**
   * Merges `mergedIds` into the survivor: its fields as chosen, the merged records soft-deleted pointing at it, their
   * connections moved to it, in one transaction. Guarded like an update of the survivor (OTP rules). Every record is
   * locked in id order first, so concurrent merges and connection writers on these records queue instead of deadlocking.
   */
  async merge(ctx: RequestContext, survivorId: string, mergedIds: string[], fieldChoices: FieldChoice[], otp: OtpCredential[]): Promise<RecordMergeResult> {
    const argumentErrors = mergeArgumentErrors(survivorId, mergedIds, fieldChoices);
    if (argumentErrors.length) throw new UserErrorException(argumentErrors);
    return this.withAfterTransaction((afterTransaction) => this.db.transaction(async (tx) => {
      const locked = new Map((await this.repository.lockLiveForUpdate(tx, [survivorId, ...mergedIds])).map((r) => [r.id, r]));
      const survivor = locked.get(survivorId.toLowerCase()) ?? null;
      locked.delete(survivorId.toLowerCase());
      const errors = mergedRecordErrors(survivor, mergedIds, locked);
      if (!survivor) throw new UserErrorException(errors);
      const module = this.module(survivor.module);
      const choices = applyFieldChoices(module, survivor, locked, fieldChoices);
      const check = checkFields(module, choices.change, survivor.fields);
      const missing = await this.missingReferences(tx, check.references);
      errors.push(...choices.errors, ...check.errors, ...this.referenceErrors(check, missing));
      if (errors.length) throw new UserErrorException(errors);
      await this.runGuards(tx, { ctx, module, operation: 'update', before: survivor, after: check.fields, otp, reservedFields: {}, afterTransaction });
      const saved = await this.repository.update(tx, survivor.id, { label: labelOf(module, check.fields), fields: check.fields });
      const merged = mergedIds.map((id) => locked.get(id.toLowerCase())!);
      await this.repository.markMerged(tx, merged.map((r) => r.id), saved.id);
      const connections = this.links ? await this.links.moveOnMerge(ctx, saved, merged, tx) : [];
      return { record: saved, mergedIds: merged.map((r) => r.id), connections };
    }));
  }

  /**
   * Saves `rawFields` over the record. The common save (no guard or reference check needing the database) takes two
   * round trips: see {@link updateIfPlain}. Every other save, and every refusal, comes from the locked transaction.
   */
  async update(ctx: RequestContext, id: string, rawFields: unknown, expectedVersion: number | null | undefined, otp: OtpCredential[]): Promise<RecordEntity> {
    const { fields: change, reserved } = this.splitReserved(rawFields);
    const update: RecordUpdate = { ctx, id, change, reserved, expectedVersion, otp };
    return (await this.updateIfPlain(update)) ?? this.updateLocked(update);
  }

  /**
   * The save without a lock or transaction: the record read, checked and guarded in memory, then written only if it is
   * still live at the version read (so it is exactly the save the locked path would have made on the same row). Null,
   * with nothing written, when anything needs more: the record is missing, the version is not the expected one, a field
   * is invalid or references a record, a guard must look or write (an OTP to check or consume, a rule matched), or the
   * record changed between the read and the write.
   */
  private async updateIfPlain({ ctx, id, change, reserved, expectedVersion, otp }: RecordUpdate): Promise<RecordEntity | null> {
    const before = await this.repository.findLiveToSave(id);
    if (!before || (expectedVersion != null && expectedVersion !== before.version)) return null;
    const module = findModule(before.module);
    if (!module) return null;
    const check = checkFields(module, change, before.fields);
    if (check.errors.length > 0 || check.references.length > 0) return null;
    const save = { ctx, module, operation: 'update' as const, before, after: check.fields, otp, reservedFields: reserved };
    for (const guard of this.guards) {
      if (!guard.passesWithoutTransaction || !(await guard.passesWithoutTransaction(save))) return null;
    }
    return this.repository.updateAtVersion(before.id, before.version, { label: labelOf(module, check.fields), fields: check.fields });
  }

  private async updateLocked({ ctx, id, change, reserved, expectedVersion, otp }: RecordUpdate): Promise<RecordEntity> {
    return this.withAfterTransaction((afterTransaction) => this.db.transaction(async (tx) => {
      const before = found(await this.repository.lockForUpdate(tx, id));
      if (expectedVersion != null && expectedVersion !== before.version) {
        throw UserErrorException.of(ErrorCode.CONFLICT, `The record was changed by someone else (version ${before.version}, expected ${expectedVersion}); reload and try again.`, ['expectedVersion']);
      }
      const module = this.module(before.module);
      const check = checkFields(module, change, before.fields);
      await this.assertValid(tx, check);
      await this.runGuards(tx, { ctx, module, operation: 'update', before, after: check.fields, otp, reservedFields: reserved, afterTransaction });
      return this.repository.update(tx, id, { label: labelOf(module, check.fields), fields: check.fields });
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
      const record = found(await this.repository.lockForDelete(tx, id));
      if (hard) {
        await this.links?.deleteForHardDelete(record.id, tx); // the connections would go by cascade, but with their events
        await this.repository.hardDelete(tx, id);
        return record;
      }
      if (record.deletedAt) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No record has this id.', ['id']);
      return this.repository.softDelete(tx, id);
    });
  }

  async restore(id: string): Promise<RecordEntity> {
    const restored = await this.repository.restore(id);
    if (!restored) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No deleted record has this id.', ['id']);
    return restored;
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
        const inserted = await this.repository.insertMany(tx, module.name, ctx.user.id,
          valid.map((r) => ({ label: labelOf(module, checks[r.row].fields), fields: checks[r.row].fields })));
        valid.forEach((result, i) => (result.record = inserted[i]));
      }
      return results;
    });
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
    const live = await this.repository.findLive(references.map((r) => r.id), tx);
    const moduleOf = new Map(live.map((r) => [r.id, r.module]));
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

function found(record: RecordEntity | null): RecordEntity {
  if (!record) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No record has this id.', ['id']);
  return record;
}
