import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { toUserEntity, type UserEntity } from '../auth/user.entity';
import { byIdLoader } from '../common/loader';
import type { RecordEntity } from '../records/record.entity';
import { toRecordEntity } from '../records/record.service';
import type { OtpDeliveryEntity } from '../otp/otp-delivery.entity';
import { otpDeliveriesLoader } from '../otp/otp.loaders';

/** Created per request, so batching and caching never leak between callers. */
export interface Loaders {
  users: DataLoader<string, UserEntity | null>;
  /** Includes soft-deleted records; callers decide whether to show them. */
  records: DataLoader<string, RecordEntity | null>;
  /** Deliveries of an OTP request, by request id. */
  otpDeliveries: DataLoader<string, OtpDeliveryEntity[]>;
}

export function createLoaders(db: DataSource): Loaders {
  return {
    users: byIdLoader(db, 'users', toUserEntity),
    records: byIdLoader(db, 'records', toRecordEntity),
    otpDeliveries: otpDeliveriesLoader(db),
  };
}
