import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { byIdLoader } from '../core/loader';
import { preparedQueriesOf } from '../db/pipelined-sql';
import { ApiKeyEntity } from './api-key.entity';
import { toUserEntity, type UserEntity } from './user.entity';

declare module '../core/context' {
  interface Loaders extends AuthLoaders {}
}

export interface AuthLoaders {
  users: DataLoader<string, UserEntity | null>;
  apiKeysByUser: DataLoader<string, ApiKeyEntity[]>;
}

export function createAuthLoaders(db: DataSource): AuthLoaders {
  return {
    users: byIdLoader(preparedQueriesOf(db), 'users', toUserEntity),
    apiKeysByUser: new DataLoader(async (userIds) => {
      const keys = await db.getRepository(ApiKeyEntity).find({ where: { userId: In([...userIds]) }, order: { createdAt: 'DESC' } });
      return userIds.map((id) => keys.filter((k) => k.userId === id));
    }),
  };
}
