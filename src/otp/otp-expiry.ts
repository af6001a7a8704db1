import type { DataSource } from 'typeorm';
import { queryRows } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { toOtpRequestEntity } from './otp-request.entity';
import { otpExpired } from './otp.events';

/**
 * Settles pending OTPs whose validity ran out (status EXPIRED, sealed code dropped) and publishes `otp.expired` for
 * each in the same transaction. Verify and send also settle expired requests they meet; those happen first only for
 * requests touched within a sweep interval of their expiry, and then publish no `otp.expired` (docs/events.md).
 */
export async function sweepExpiredOtps(db: DataSource, events: EventPublisher, limit = 500): Promise<number> {
  return events.withEvents(db, async (tx) => (await queryRows(tx,
    `UPDATE otp_requests SET status = 'EXPIRED', code_sealed = NULL, updated_at = now()
      WHERE id IN (SELECT id FROM otp_requests WHERE status = 'PENDING' AND expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING *`, [limit])).map(toOtpRequestEntity), (expired) => expired.map(otpExpired)).then((expired) => expired.length);
}
