import { queryRows, type Queryable } from '../db/sql';
import type { RecordFields } from '../records/record.entity';

/**
 * Per closed record, its fields as of the last state the rules checked (see docs/otp-rules.md, "Closed records").
 * Written and read only in the save's transaction, which holds the record's row lock, so saves of one record never
 * race on it; a refused save rolls its change back.
 */
export class RuleCheckedStates {
  /** A save of a record that stays closed: keep the state before the first such save (later ones keep it). */
  async remember(tx: Queryable, recordId: string, fields: RecordFields): Promise<void> {
    await tx.query(
      'INSERT INTO otp_rule_checked_states (record_id, fields) VALUES ($1, $2) ON CONFLICT (record_id) DO NOTHING',
      [recordId, JSON.stringify(fields)],
    );
  }

  /** A save that reopens the record: the state to check it against (if any), which is then forgotten. */
  async takeOnReopen(tx: Queryable, recordId: string): Promise<RecordFields | null> {
    const [row] = await queryRows<{ fields: RecordFields }>(tx, 'DELETE FROM otp_rule_checked_states WHERE record_id = $1 RETURNING fields', [recordId]);
    return row?.fields ?? null;
  }
}
