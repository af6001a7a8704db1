import { ApiKeyEntity } from '../auth/api-key.entity';
import { UserEntity } from '../auth/user.entity';
import { ConnectionTypeEntity } from '../connections/connection-type.entity';
import { ConnectionEntity } from '../connections/connection.entity';
import { RecordEntity } from '../records/record.entity';
import { OtpRuleEntity, OtpRuleValidationFailureEntity } from '../otp-rules/otp-rule.entity';

/** Every TypeORM entity; features add theirs here. */
export const entities = [
  UserEntity, ApiKeyEntity, RecordEntity, ConnectionTypeEntity, ConnectionEntity, OtpRuleEntity, OtpRuleValidationFailureEntity,
];
