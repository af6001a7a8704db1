import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Queryable } from '../db/sql';
import { Notifications } from '../db/notifications';
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
export class OtpRuleCache {
  private byModule = new Map<string, CachedRule[]>();
  private loading: Promise<void> | null = null;
  private generation = 0;

  constructor(private readonly db: DataSource, notifications: Notifications, private readonly log: Logger) {
    const reload = () => { void this.reload().catch((error) => this.log.error({ err: error }, 'reloading OTP rules failed')); };
    notifications.on(OTP_RULES_CHANNEL, reload);
    notifications.onReconnect(reload);
  }

  async activeRules(module: string): Promise<CachedRule[]> {
    if (this.loading) await this.loading;
    return this.byModule.get(module) ?? [];
  }

  /** Call inside the transaction that changed rules: every instance reloads once it commits. */
  static announceChange(tx: Queryable): Promise<void> {
    return Notifications.notify(tx, OTP_RULES_CHANNEL);
  }

  reload(): Promise<void> {
    const loading = this.fetch(++this.generation);
    this.loading = loading;
    loading.finally(() => { if (this.loading === loading) this.loading = null; }).catch(() => undefined);
    return loading;
  }

  private async fetch(generation: number): Promise<void> {
    const rules = await this.db.getRepository(OtpRuleEntity).find({ where: { active: true }, order: { id: 'ASC' } });
    if (generation !== this.generation) return; // a newer reload is under way and will win
    const byModule = new Map<string, CachedRule[]>();
    for (const rule of rules) {
      const list = byModule.get(rule.module) ?? [];
      list.push({ rule, matches: compileConditions(rule.conditions) });
      byModule.set(rule.module, list);
    }
    this.byModule = byModule;
  }
}
