import type { Queryable } from '../db/sql';
import { queryRows } from '../db/sql';
import type { IdempotencyKeyState } from './idempotency-key.entity';

export interface StoredKey {
  payloadHash: string;
  state: IdempotencyKeyState;
  lockedUntil: Date | null;
  answer: unknown;
}

export interface Claim {
  scope: string;
  key: string;
  payloadHash: string;
  lockToken: string;
  now: Date;
  lockedUntil: Date;
  expiresAt: Date;
}

/** The only SQL on `idempotency_keys`. Every statement stands alone (autocommit), so other instances see it at once. */
export class IdempotencyKeyRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Takes the key for one run: a new key, one whose 24 h have passed, or one left RUNNING past its lock by a process
   * that died (same payload only). Parallel claims queue on the primary key; exactly one of them gets `true`.
   */
  async claim(c: Claim): Promise<boolean> {
    const rows = await queryRows(this.db,
      `INSERT INTO idempotency_keys (scope, key, payload_hash, state, lock_token, locked_until, answer, created_at, expires_at)
       VALUES ($1, $2, $3, 'RUNNING', $4, $5, NULL, $6, $7)
       ON CONFLICT (scope, key) DO UPDATE
          SET payload_hash = EXCLUDED.payload_hash, state = 'RUNNING', lock_token = EXCLUDED.lock_token,
              locked_until = EXCLUDED.locked_until, answer = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
           OR (idempotency_keys.state = 'RUNNING' AND idempotency_keys.locked_until <= EXCLUDED.created_at
               AND idempotency_keys.payload_hash = EXCLUDED.payload_hash)
       RETURNING lock_token`,
      [c.scope, c.key, c.payloadHash, c.lockToken, c.lockedUntil, c.now, c.expiresAt]);
    return rows.length === 1;
  }

  async find(scope: string, key: string): Promise<StoredKey | null> {
    const [row] = await queryRows(this.db,
      'SELECT payload_hash, state, locked_until, answer FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
    return row ? { payloadHash: row.payload_hash, state: row.state, lockedUntil: row.locked_until, answer: row.answer === null ? null : JSON.parse(row.answer) } : null;
  }

  /** Stores the answer of the run holding `lockToken`; false when the lock was lost (timed out and taken over). */
  async complete(scope: string, key: string, lockToken: string, answer: unknown): Promise<boolean> {
    const rows = await queryRows(this.db,
      `UPDATE idempotency_keys SET state = 'DONE', answer = $4::text, lock_token = NULL, locked_until = NULL
        WHERE scope = $1 AND key = $2 AND lock_token = $3 RETURNING key`,
      [scope, key, lockToken, JSON.stringify(answer)]);
    return rows.length === 1;
  }

  /** Frees the key of a run that changed nothing (refused, or failed), so a retry runs again. */
  async release(scope: string, key: string, lockToken: string): Promise<void> {
    await queryRows(this.db, 'DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND lock_token = $3 RETURNING key', [scope, key, lockToken]);
  }

  /** Deletes up to `limit` keys whose 24 h have passed; returns how many. */
  async deleteExpired(now: Date, limit: number): Promise<number> {
    const rows = await queryRows(this.db,
      `DELETE FROM idempotency_keys WHERE (scope, key) IN (
         SELECT scope, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2
       ) RETURNING key`, [now, limit]);
    return rows.length;
  }
}
