import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Queryable } from '../db/sql';
import { Notifications } from '../db/notifications';
import { NotifiedCache } from '../db/notified-cache';
import { compileConditions, type CompiledConditions } from './conditions';
import { OtpRuleEntity } from './otp-rule.entity';

export interface CachedRule {
  rule: OtpRuleEntity;
  matches: CompiledConditions;
}

export const OTP_RULES_CHANNEL = 'countersign_otp_rules_changed';

/**
 * Active rules per module, held in memory and compiled, so checking a save costs the same with 1,000 rules as with
 * none. Every change is announced in the changing transaction; each instance hears it and reloads.
 */
export class OtpRuleCache extends NotifiedCache {
  private byModule = new Map<string, CachedRule[]>();

  constructor(private readonly db: DataSource, notifications: Notifications, log: Logger) {
    super(notifications, OTP_RULES_CHANNEL, log, 'OTP rules');
  }

  async activeRules(module: string): Promise<CachedRule[]> {
    await this.ready();
    return this.byModule.get(module) ?? [];
  }

  /** Call inside the transaction that changed rules: every instance reloads once it commits. */
  static announceChange(tx: Queryable): Promise<void> {
    return Notifications.notify(tx, OTP_RULES_CHANNEL);
  }

  protected async load(isCurrent: () => boolean): Promise<void> {
    const rules = await this.db.getRepository(OtpRuleEntity).find({ where: { active: true }, order: { id: 'ASC' } });
    if (!isCurrent()) return; // a newer reload is under way and will win
    const byModule = new Map<string, CachedRule[]>();
    for (const rule of rules) {
      const list = byModule.get(rule.module) ?? [];
      list.push({ rule, matches: compileConditions(rule.conditions) });
      byModule.set(rule.module, list);
    }
    this.byModule = byModule;
  }
}
