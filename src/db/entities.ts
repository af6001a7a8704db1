import { ApiKeyEntity } from '../auth/api-key.entity';
import { UserEntity } from '../auth/user.entity';
import { RecordEntity } from '../records/record.entity';
import { OtpRequestEntity } from '../otp/otp-request.entity';
import { OtpDeliveryEntity } from '../otp/otp-delivery.entity';
import { MessageTemplateEntity } from '../otp/templates/message-template.entity';

/** Every TypeORM entity; features add theirs here. */
export const entities = [UserEntity, ApiKeyEntity, RecordEntity, OtpRequestEntity, OtpDeliveryEntity, MessageTemplateEntity];
