import type { DataSource } from 'typeorm';
import { queryRows } from '../db/sql';
import type { EventPublisher } from '../events/event-publisher';
import { toOtpRequestEntity } from './otp-request.entity';
import { otpExpired } from './otp.events';

/**
 * Settles pending OTPs whose validity ran out (status EXPIRED, sealed code dropped) and publishes `otp.expired` for
 * each in the same transaction. A verify or a send that met an expired request first has already settled it and
 * marked it `expiry_unannounced`: the same transaction claims those (`FOR UPDATE SKIP LOCKED`, so concurrent sweeps
 * in several instances never take the same row), clears the mark and publishes their `otp.expired`, built by the same
 * JS builder. Every expiry is thus announced exactly once, at most one sweep interval after it was settled.
 */
export async function sweepExpiredOtps(db: DataSource, events: EventPublisher, limit = 500): Promise<number> {
  return events.withEvents(db, async (tx) => {
    const expired = await queryRows(tx,
      `UPDATE otp_requests SET status = 'EXPIRED', code_sealed = NULL, updated_at = now()
        WHERE id IN (SELECT id FROM otp_requests WHERE status = 'PENDING' AND expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING *`, [limit]);
    const settledEarlier = await queryRows(tx,
      `UPDATE otp_requests SET expiry_unannounced = false
        WHERE expiry_unannounced AND id IN (SELECT id FROM otp_requests WHERE expiry_unannounced ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING *`, [limit]);
    return [...expired, ...settledEarlier].map(toOtpRequestEntity);
  }, (expired) => expired.map(otpExpired)).then((expired) => expired.length);
}
