import { ApiKeyEntity } from '../auth/api-key.entity';
import { UserEntity } from '../auth/user.entity';
import { ConnectionTypeEntity } from '../connections/connection-type.entity';
import { ConnectionEntity } from '../connections/connection.entity';
import { OtpDeliveryEntity } from '../otp/otp-delivery.entity';
import { OtpRequestEntity } from '../otp/otp-request.entity';
import { MessageTemplateEntity } from '../otp/templates/message-template.entity';
import { OtpRuleCheckedStateEntity, OtpRuleEntity, OtpRuleValidationFailureEntity } from '../otp-rules/otp-rule.entity';
import { RecordEntity } from '../records/record.entity';
import { FRAUD_ENTITIES } from '../fraud/fraud.entity';

/** Every TypeORM entity; features add theirs here. */
export const entities = [
  UserEntity, ApiKeyEntity, RecordEntity,
  ConnectionTypeEntity, ConnectionEntity,
  OtpRequestEntity, OtpDeliveryEntity, MessageTemplateEntity,
  OtpRuleEntity, OtpRuleValidationFailureEntity, OtpRuleCheckedStateEntity,
  ...FRAUD_ENTITIES,
];
