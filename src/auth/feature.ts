import type { DataSource } from 'typeorm';
import type { AppConfig } from '../core/config';
import { defineFeature } from '../core/feature';
import type { Notifications } from '../db/notifications';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyService } from './api-key.service';
import { createAuthLoaders } from './auth.loaders';
import { ApiKeyResolver, UserResolver } from './auth.resolver';
import { Authenticator } from './authenticator';
import { UserEntity } from './user.entity';
import { UserService } from './user.service';

export interface AuthNeeds {
  db: DataSource;
  notifications: Notifications;
  config: Pick<AppConfig, 'JWT_PUBLIC_KEY' | 'JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_MAX_AGE_SECONDS'>;
}

/** Users, API keys and who is acting: the authenticator every request passes through. */
export const authFeature = defineFeature({
  name: 'auth',
  entities: [UserEntity, ApiKeyEntity],
  resolvers: [UserResolver, ApiKeyResolver],
  loaders: (db) => createAuthLoaders(db),
  build({ db, notifications, config }: AuthNeeds) {
    const authenticator = new Authenticator(db, {
      publicKeyPem: config.JWT_PUBLIC_KEY, jwksUrl: config.JWKS_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, maxAgeSeconds: config.JWT_MAX_AGE_SECONDS,
    }, notifications);
    const users = new UserService(db, () => authenticator.forgetAll());
    const apiKeys = new ApiKeyService(db, () => authenticator.forgetAll());
    return {
      services: { authenticator, users, apiKeys },
      resolvers: [new UserResolver(users), new ApiKeyResolver(apiKeys)],
    };
  },
});
