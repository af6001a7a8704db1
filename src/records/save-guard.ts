import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../core/context';
import type { ModuleDefinition } from './modules';
import type { RecordEntity, RecordFields } from './record.entity';

export interface OtpCredential {
  /** A rule id or its sanitised name. */
  rule: string;
  code: string;
}

/** A create or update about to be written; guards may refuse it by throwing a UserErrorException. */
export interface GuardedSave {
  ctx: RequestContext;
  module: ModuleDefinition;
  operation: 'create' | 'update';
  /** The saved record, on update. */
  before: RecordEntity | null;
  /** The record's fields as they will be saved. */
  after: RecordFields;
  /** The typed `otp` argument of the mutation. */
  otp: OtpCredential[];
  /** `fields` keys the guards reserved (see `reservedFieldPrefix`), removed before validation and saving. */
  reservedFields: Record<string, unknown>;
  /**
   * Work that must happen whether the save commits or is refused (e.g. sending the OTP a refused save asks for). It
   * runs once the save's transaction has ended and before the answer, so it never waits for a pool connection while
   * the save holds one.
   */
  afterTransaction(task: () => Promise<void>): void;
}

/** A save as judged before its transaction (a plain update's check): it has no transaction to run work after yet. */
export type JudgedSave = Omit<GuardedSave, 'afterTransaction'>;

/**
 * "May this save happen?" The records feature owns this interface; features such as OTP rules register an
 * implementation at start, so records never imports them. It runs inside the save's transaction.
 */
export interface RecordSaveGuard {
  /** `fields` keys starting with this prefix (case-insensitive) belong to the guard and are never saved. */
  readonly reservedFieldPrefix?: string;
  beforeSave(save: GuardedSave, tx: EntityManager): Promise<void>;
  /**
   * Whether this update passes the guard with nothing to read, write, consume or do afterwards, judged in memory from
   * `save.before` as read without a lock. When every guard says so, records writes the save in one statement that
   * applies only if the record is still as read; otherwise (or without this method) `beforeSave` runs in the locked
   * transaction as always. When unsure, answer false.
   */
  passesWithoutTransaction?(save: JudgedSave): Promise<boolean>;
}
