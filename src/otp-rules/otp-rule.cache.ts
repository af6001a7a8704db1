import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Queryable } from '../db/sql';
import { Notifications } from '../db/notifications';
import { NotifiedCache } from '../db/notified-cache';
import { compileConditions, type CompiledConditions } from './conditions';
import { OtpRuleEntity } from './otp-rule.entity';
import type { RecordFields } from '../records/record.entity';

export interface CachedRule {
  rule: OtpRuleEntity;
  matches: CompiledConditions;
}

/** A module's active rules in id order, and by each field their conditions read. */
interface ModuleRules {
  all: CachedRule[];
  byField: Map<string, CachedRule[]>;
}

export const OTP_RULES_CHANNEL = 'countersign_otp_rules_changed';

/**
 * Active rules per module, held in memory and compiled, so checking a save costs the same with 1,000 rules as with
 * none. Every change is announced in the changing transaction; each instance hears it and reloads.
 */
export class OtpRuleCache extends NotifiedCache {
  private byModule = new Map<string, ModuleRules>();

  constructor(private readonly db: DataSource, notifications: Notifications, log: Logger) {
    super(notifications, OTP_RULES_CHANNEL, log, 'OTP rules');
  }

  async activeRules(module: string): Promise<CachedRule[]> {
    await this.ready();
    return this.byModule.get(module)?.all ?? [];
  }

  /**
   * The active rules (in id order) whose conditions read a field this update changes (a value not identical, by
   * Object.is, before and after): the only ones it can make match, since a rule's conditions each read their own field
   * only (see compileConditions). A save that changes no guarded field visits no rule, however many the module has.
   */
  async rulesReadingChanged(module: string, before: RecordFields, after: RecordFields): Promise<CachedRule[]> {
    await this.ready();
    const rules = this.byModule.get(module);
    if (!rules) return [];
    let touched: Set<CachedRule> | null = null;
    for (const [field, reading] of rules.byField) {
      if (Object.is(before[field], after[field])) continue;
      touched ??= new Set();
      for (const cached of reading) touched.add(cached);
    }
    return touched ? rules.all.filter((cached) => touched!.has(cached)) : [];
  }

  /** Call inside the transaction that changed rules: every instance reloads once it commits. */
  static announceChange(tx: Queryable): Promise<void> {
    return Notifications.notify(tx, OTP_RULES_CHANNEL);
  }

  protected async load(isCurrent: () => boolean): Promise<void> {
    const rules = await this.db.getRepository(OtpRuleEntity).find({ where: { active: true }, order: { id: 'ASC' } });
    if (!isCurrent()) return; // a newer reload is under way and will win
    const byModule = new Map<string, ModuleRules>();
    for (const rule of rules) {
      const module: ModuleRules = byModule.get(rule.module) ?? { all: [], byField: new Map() };
      const cached = { rule, matches: compileConditions(rule.conditions) };
      module.all.push(cached);
      for (const field of new Set(rule.conditions.flatMap((group) => group.conditions.map((condition) => condition.field)))) {
        const reading = module.byField.get(field);
        if (reading) reading.push(cached);
        else module.byField.set(field, [cached]);
      }
      byModule.set(rule.module, module);
    }
    this.byModule = byModule;
  }
}
