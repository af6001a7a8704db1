import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Queryable } from '../db/sql';
import { compileConditions, type CompiledConditions } from './conditions';
import { OtpRuleEntity } from './otp-rule.entity';

export interface CachedRule {
  rule: OtpRuleEntity;
  matches: CompiledConditions;
}

const CHANNEL = 'countersign_otp_rules_changed';

/**
 * Active rules per module, held in memory and compiled, so checking a save costs the same with 1,000 rules as with
 * none. Every change is announced with NOTIFY in the changing transaction; each instance LISTENs and reloads.
 */
export class OtpRuleCache {
  private byModule = new Map<string, CachedRule[]>();
  private loading: Promise<void> | null = null;
  private generation = 0;
  private listener: Client | null = null;
  private stopped = false;

  constructor(private readonly db: DataSource, private readonly databaseUrl: string, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.listen();
    await this.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => undefined);
  }

  async activeRules(module: string): Promise<CachedRule[]> {
    if (this.loading) await this.loading;
    return this.byModule.get(module) ?? [];
  }

  /** Call inside the transaction that changed rules: every instance reloads once it commits. */
  static async announceChange(tx: Queryable): Promise<void> {
    await tx.query(`SELECT pg_notify('${CHANNEL}', '')`);
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

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'countersign-otp-rules-listener' });
    client.on('notification', () => { void this.reload().catch((error) => this.log.error({ err: error }, 'reloading OTP rules failed')); });
    client.on('error', (error) => {
      this.log.warn({ err: error }, 'OTP rules listener lost its connection; reconnecting');
      void this.reconnect(client);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  /** After a lost connection, notifications may have been missed: listen again, then reload everything. */
  private async reconnect(old: Client): Promise<void> {
    await old.end().catch(() => undefined);
    for (let attempt = 0; !this.stopped && attempt < 1000; attempt += 1) {
      try {
        await this.listen();
        await this.reload();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }
}
