import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../core/errors';
import { PageOf } from '../core/pagination';
import { Role } from './roles';
import type { UserEntity } from './user.entity';
import type { ApiKeyEntity } from './api-key.entity';

@ObjectType('User')
export class UserType {
  @Field(() => ID) id: string;
  @Field(() => String) email: string;
  @Field(() => String) name: string;
  @Field(() => Role) role: Role;
  @Field(() => String, { description: 'Named profile; OTP rules can target profiles.' }) profile: string;
  @Field(() => Boolean) active: boolean;
  @Field(() => Date) createdAt: Date;
}

@ObjectType('ApiKey', { description: 'A server-to-server credential. The key itself is shown once, when created.' })
export class ApiKeyType {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String, { description: 'The first characters of the key, to tell keys apart.' }) prefix: string;
  @Field(() => Date, { nullable: true }) expiresAt: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt: Date | null;
  @Field(() => Date) createdAt: Date;
}

@InputType()
export class CreateUserInput {
  @Field(() => String) email: string;
  @Field(() => String) name: string;
  @Field(() => Role) role: Role;
  @Field(() => String, { nullable: true }) profile?: string | null;
}

@InputType()
export class UpdateUserInput {
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => Role, { nullable: true }) role?: Role | null;
  @Field(() => String, { nullable: true }) profile?: string | null;
  @Field(() => Boolean, { nullable: true }) active?: boolean | null;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => ID, { description: 'The user the key acts as.' }) userId: string;
  @Field(() => String) name: string;
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
}

@ObjectType()
export class UserPayload {
  @Field(() => UserType, { nullable: true }) user: UserEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class ApiKeyPayload {
  @Field(() => ApiKeyType, { nullable: true }) apiKey: ApiKeyEntity | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class CreateApiKeyPayload {
  @Field(() => ApiKeyType, { nullable: true }) apiKey: ApiKeyEntity | null;
  @Field(() => String, { nullable: true, description: 'The key: shown only in this answer, stored only as a hash.' }) key: string | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

export enum ApiKeyStatus { ACTIVE = 'ACTIVE', REVOKED = 'REVOKED', EXPIRED = 'EXPIRED' }
registerEnumType(ApiKeyStatus, {
  name: 'ApiKeyStatus',
  valuesConfig: { ACTIVE: { description: 'Neither revoked nor past its expiry.' }, EXPIRED: { description: 'Past its expiry, not revoked.' } },
});

@ObjectType({ description: 'Users by email.' })
export class UserPage extends PageOf<UserEntity>(UserType, 'User') {}

@InputType()
export class UserFilterInput {
  @Field(() => Role, { nullable: true }) role?: Role | null;
  @Field(() => Boolean, { nullable: true, description: 'Only active (true) or deactivated (false) users.' }) active?: boolean | null;
}

@ObjectType({ description: 'API keys, newest first.' })
export class ApiKeyPage extends PageOf<ApiKeyEntity>(ApiKeyType, 'ApiKey') {}

@InputType()
export class ApiKeyFilterInput {
  @Field(() => ID, { nullable: true, description: 'Only this user\'s keys.' }) userId?: string | null;
  @Field(() => ApiKeyStatus, { nullable: true }) status?: ApiKeyStatus | null;
}
