import { queryRows, type Queryable } from '../../db/sql';
import type { DeliveryQueue } from './delivery-queue';

/**
 * Channel fallback when a step failed for good (the provider refused it, or reported it undelivered; not a step that
 * failed because its OTP was no longer pending): the workflow's next step, still SCHEDULED for later, is due now. Its
 * time moves to now and it gets a job that starts at once (its first job, still waiting, later finds it handled and
 * does nothing); whether it is sent is decided by the worker's claim as for any step (the OTP must still be pending).
 * Runs in `tx`, the transaction (or statement order) that recorded the failure; a step after the next keeps its time.
 */
export async function bringNextStepsForward(tx: Queryable, queue: DeliveryQueue, failedDeliveryIds: string[]): Promise<string[]> {
  if (!failedDeliveryIds.length) return [];
  const next = await queryRows(tx,
    `UPDATE otp_deliveries n SET scheduled_at = now(), updated_at = now()
       FROM otp_deliveries f
      WHERE f.id = ANY($1::uuid[]) AND f.status = 'FAILED' AND f.workflow_step IS NOT NULL
        AND f.error_category IS DISTINCT FROM 'REQUEST_CLOSED' -- the OTP closed: its next step is skipped in its time anyway
        AND n.otp_request_id = f.otp_request_id AND n.workflow_step = f.workflow_step + 1
        AND n.status = 'SCHEDULED' AND n.scheduled_at > now()
      RETURNING n.id`,
    [failedDeliveryIds]);
  const ids = next.map((row) => row.id as string);
  if (ids.length) await queue.enqueue(tx, ids.map((deliveryId) => ({ deliveryId, startAfterSeconds: 0 })));
  return ids;
}
