import DataLoader from 'dataloader';
import { In } from 'typeorm';
import { OtpRuleEntity } from '../otp-rules/otp-rule.entity';
import { ApiKeyEntity } from '../auth/api-key.entity';
import type { DataSource } from 'typeorm';
import { toUserEntity, type UserEntity } from '../auth/user.entity';
import { byIdLoader } from '../common/loader';
import type { RecordEntity } from '../records/record.entity';
import { recordsLoader } from '../records/record.loaders';
import { createConnectionLoaders, type ConnectionLoaders } from '../connections/connection.loaders';
import type { OtpDeliveryEntity } from '../otp/otp-delivery.entity';
import { otpDeliveriesLoader } from '../otp/otp.loaders';

/** Created per request, so batching and caching never leak between callers. */
export interface Loaders extends ConnectionLoaders {
  users: DataLoader<string, UserEntity | null>;
  apiKeysByUser: DataLoader<string, ApiKeyEntity[]>;
  /** Includes soft-deleted records; callers decide whether to show them. */
  records: DataLoader<string, RecordEntity | null>;
  otpRules: DataLoader<number, OtpRuleEntity | null>;
  /** Deliveries of an OTP request, by request id. */
  otpDeliveries: DataLoader<string, OtpDeliveryEntity[]>;
}

export function createLoaders(db: DataSource): Loaders {
  return {
    users: byIdLoader(db, 'users', toUserEntity),
    apiKeysByUser: new DataLoader(async (userIds) => {
      const keys = await db.getRepository(ApiKeyEntity).find({ where: { userId: In([...userIds]) }, order: { createdAt: 'DESC' } });
      return userIds.map((id) => keys.filter((k) => k.userId === id));
    }),
    records: recordsLoader(db),
    ...createConnectionLoaders(db),
    otpDeliveries: otpDeliveriesLoader(db),
    otpRules: new DataLoader(async (ids) => {
      const rules = await db.getRepository(OtpRuleEntity).find({ where: { id: In([...ids]) } });
      return ids.map((id) => rules.find((r) => r.id === id) ?? null);
    }),
  };
}
