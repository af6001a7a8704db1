import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { isUuid } from '../core/ids';
import { toOtpDeliveryEntity, type OtpDeliveryEntity } from './otp-delivery.entity';

declare module '../core/context' {
  interface Loaders {
    /** Deliveries of an OTP request, by request id. */
    otpDeliveries: DataLoader<string, OtpDeliveryEntity[]>;
  }
}

/** Every delivery of each requested OTP request, oldest first (a workflow's in step order), in one query per batch. */
export function otpDeliveriesLoader(db: DataSource): DataLoader<string, OtpDeliveryEntity[]> {
  return new DataLoader<string, OtpDeliveryEntity[]>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows: Array<Record<string, any>> = valid.length
      ? await db.query('SELECT * FROM otp_deliveries WHERE otp_request_id = ANY($1::uuid[]) ORDER BY created_at, workflow_step, array_position(ARRAY[\'SMS\', \'WHATSAPP\', \'EMAIL\']::varchar[], channel), id', [valid])
      : [];
    const byRequest = new Map<string, OtpDeliveryEntity[]>();
    for (const row of rows) {
      const list = byRequest.get(row.otp_request_id) ?? [];
      list.push(toOtpDeliveryEntity(row));
      byRequest.set(row.otp_request_id, list);
    }
    return ids.map((id) => byRequest.get(id) ?? []);
  }, { maxBatchSize: 1000 });
}
