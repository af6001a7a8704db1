import type { Queryable } from '../db/sql';
import type { OtpService } from '../otp/otp.service';
import type { OtpRuleEntity } from './otp-rule.entity';

export interface CountedFailure {
  failures: number;
  /** Wrong codes still allowed before the lock (0 once locked). */
  attemptsLeft: number;
  lockedForSeconds: number;
}

/**
 * The one attempt model of rule OTPs (docs/otp-rules.md, "Wrong OTPs"): wrong OTPs are counted per rule and record
 * since the last right OTP or the end of the last lock. The count reaching the limit locks the rule for that record
 * for `resetValidationAfterSeconds` and kills the live OTP right after, so after the lock a new OTP must be
 * sent and the count starts from zero. The limit is the rule's `maxValidationAttempts`, or the one frozen on the
 * latest OTP the rule sent for the record if that is lower: that OTP's own cap is then never reached first, and the
 * attempts left that the guard reports are always true.
 *
 * Counted on a pool of its own (the save's transaction rolls back when the save is refused), one atomic statement per
 * wrong code, so parallel guesses all count. Nothing here waits for a row lock the save may hold: the counter row is
 * written only here (and deleted on success in the save, which holds the record's lock, as every save of the record
 * does), and the otp service kills the OTP with SKIP LOCKED.
 */
export class RuleValidationFailures {
  /** `db` is the counters pool; `otps` reads the OTP's frozen cap and kills it (on the same pool). */
  constructor(private readonly db: Queryable, private readonly otps: Pick<OtpService, 'ruleAttemptCap' | 'lockOutRuleOtps'>) {}

  async lockedForSeconds(rule: OtpRuleEntity, recordId: string, now: Date): Promise<number> {
    const [row] = await this.db.query('SELECT locked_until FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [rule.id, recordId]);
    return secondsUntil(row?.locked_until ?? null, now);
  }

  async record(rule: OtpRuleEntity, recordId: string, now: Date): Promise<CountedFailure> {
    const cap = await this.otps.ruleAttemptCap(rule.id, recordId);
    const limit = Math.min(rule.maxValidationAttempts, cap ?? rule.maxValidationAttempts);
    const [row] = await this.db.query(
      `INSERT INTO otp_rule_validation_failures AS f (rule_id, record_id, failures, window_started_at, locked_until)
       VALUES ($1::int, $2::uuid, 1, $3::timestamptz, CASE WHEN 1 >= $4::int THEN $3::timestamptz + make_interval(secs => $5) END)
       ON CONFLICT (rule_id, record_id) DO UPDATE SET
         failures = CASE WHEN f.locked_until IS NOT NULL THEN 1 ELSE f.failures + 1 END,
         window_started_at = CASE WHEN f.locked_until IS NOT NULL THEN $3::timestamptz ELSE f.window_started_at END,
         locked_until = CASE WHEN (CASE WHEN f.locked_until IS NOT NULL THEN 1 ELSE f.failures + 1 END) >= $4::int
                             THEN $3::timestamptz + make_interval(secs => $5) END
       WHERE f.locked_until IS NULL OR f.locked_until <= $3::timestamptz
       RETURNING failures, locked_until`,
      [rule.id, recordId, now, limit, rule.resetValidationAfterSeconds],
    );
    if (!row) {
      // locked by a guess that was counted between our lock check and now
      return { failures: rule.maxValidationAttempts, attemptsLeft: 0, lockedForSeconds: Math.max(1, await this.lockedForSeconds(rule, recordId, now)) };
    }
    // this guess locked the rule for the record: its live OTP dies with the lock
    if (row.locked_until) await this.otps.lockOutRuleOtps(rule.id, recordId);
    const lockedForSeconds = secondsUntil(row.locked_until, now);
    return { failures: row.failures, attemptsLeft: lockedForSeconds > 0 ? 0 : Math.max(0, limit - row.failures), lockedForSeconds };
  }

  /** After a successful validation, inside the save's transaction. */
  async clear(tx: Queryable, rule: OtpRuleEntity, recordId: string): Promise<void> {
    await tx.query('DELETE FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [rule.id, recordId]);
  }
}

function secondsUntil(until: Date | null, now: Date): number {
  if (!until) return 0;
  const ms = new Date(until).getTime() - now.getTime();
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}
