import type { Queryable } from '../db/sql';
import type { OtpRuleEntity } from './otp-rule.entity';

/**
 * Wrong OTPs per rule and record. Counted on the pool (not in the save's transaction, which rolls back when the
 * save is refused) with one atomic upsert, so parallel guesses all count. A window opens at the first failure;
 * reaching `maxValidationAttempts` locks the rule for that record until `resetValidationAfterSeconds` have passed.
 */
export class RuleValidationFailures {
  constructor(private readonly db: Queryable) {}

  async lockedForSeconds(rule: OtpRuleEntity, recordId: string, now: Date): Promise<number> {
    const [row] = await this.db.query('SELECT failures, window_started_at FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [rule.id, recordId]);
    return row ? lockSeconds(rule, row.failures, row.window_started_at, now) : 0;
  }

  async record(rule: OtpRuleEntity, recordId: string, now: Date): Promise<{ failures: number; lockedForSeconds: number }> {
    const [row] = await this.db.query(
      `INSERT INTO otp_rule_validation_failures AS f (rule_id, record_id, failures, window_started_at) VALUES ($1, $2, 1, $3)
       ON CONFLICT (rule_id, record_id) DO UPDATE SET
         failures = CASE WHEN f.window_started_at + make_interval(secs => $4) <= $3 THEN 1 ELSE f.failures + 1 END,
         window_started_at = CASE WHEN f.window_started_at + make_interval(secs => $4) <= $3 THEN $3 ELSE f.window_started_at END
       RETURNING failures, window_started_at`,
      [rule.id, recordId, now, rule.resetValidationAfterSeconds],
    );
    return { failures: row.failures, lockedForSeconds: lockSeconds(rule, row.failures, row.window_started_at, now) };
  }

  /** After a successful validation, inside the save's transaction. */
  async clear(tx: Queryable, rule: OtpRuleEntity, recordId: string): Promise<void> {
    await tx.query('DELETE FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [rule.id, recordId]);
  }
}

function lockSeconds(rule: OtpRuleEntity, failures: number, windowStartedAt: Date, now: Date): number {
  if (failures < rule.maxValidationAttempts) return 0;
  const until = windowStartedAt.getTime() + rule.resetValidationAfterSeconds * 1000;
  return until > now.getTime() ? Math.ceil((until - now.getTime()) / 1000) : 0;
}
