import { generateApiKey, hashApiKey } from './api-key-hash';
import type { DataSource } from 'typeorm';
import { ApiKeyEntity, toApiKeyEntity } from './api-key.entity';
import type { PageSource } from '../core/pagination';
import { newestFirstPage } from '../db/newest-first';
import { ErrorCode, UserErrorException } from '../core/errors';
import { UserEntity } from './user.entity';
import { isUuid } from '../core/ids';
import { Authenticator } from './authenticator';

export const API_KEY_PREFIX_LENGTH = 11;

export type ApiKeyState = 'ACTIVE' | 'REVOKED' | 'EXPIRED';
const STATE_SQL: Record<ApiKeyState, string> = {
  ACTIVE: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
  REVOKED: 'revoked_at IS NOT NULL',
  EXPIRED: 'revoked_at IS NULL AND expires_at <= now()',
};

export interface CreatedApiKey {
  apiKey: ApiKeyEntity;
  /** The key itself: returned once, never stored. */
  key: string;
}

export class ApiKeyService {
  /** `onAuthChange` runs after a committed change that may invalidate cached principals of this instance. */
  constructor(private readonly db: DataSource, private readonly onAuthChange: () => void = () => undefined) {}

  async create(input: { userId: string; name: string; expiresAt?: Date | null; key?: string }): Promise<CreatedApiKey> {
    const errors = [];
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) errors.push(['name', 'The name must be 1 to 100 characters.']);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) errors.push(['expiresAt', 'The expiry must be in the future.']);
    if (errors.length) {
      throw new UserErrorException(errors.map(([field, message]) => ({ field: [field], message, code: ErrorCode.INVALID })));
    }
    const user = isUuid(input.userId) ? await this.db.getRepository(UserEntity).findOneBy({ id: input.userId }) : null;
    if (!user) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No user has this id.', ['userId']);
    const key = input.key ?? generateApiKey();
    const apiKey = await this.db.getRepository(ApiKeyEntity).save({
      userId: user.id,
      name,
      prefix: key.slice(0, API_KEY_PREFIX_LENGTH),
      keyHash: hashApiKey(key),
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    });
    return { apiKey, key };
  }

  /**
   * Registers a key chosen by the operator (ADMIN_API_KEY) for a user, once. A revoked key stays revoked: a restart
   * with the old setting must never undo a revocation, so the caller is told and says so in the log.
   */
  async ensureKey(userId: string, name: string, key: string): Promise<{ state: 'registered' | 'present' } | { state: 'revoked'; apiKey: ApiKeyEntity }> {
    const existing = await this.db.getRepository(ApiKeyEntity).findOneBy({ keyHash: hashApiKey(key) });
    if (!existing) {
      await this.create({ userId, name, key });
      return { state: 'registered' };
    }
    if (existing.revokedAt) return { state: 'revoked', apiKey: existing };
    if (existing.userId !== userId) {
      await this.db.transaction(async (tx) => {
        await tx.getRepository(ApiKeyEntity).update(existing.id, { userId });
        await Authenticator.announceChange(tx);
      });
      this.onAuthChange();
    }
    return { state: 'present' };
  }

  async revoke(id: string): Promise<ApiKeyEntity> {
    const repo = this.db.getRepository(ApiKeyEntity);
    const apiKey = isUuid(id) ? await repo.findOneBy({ id }) : null;
    if (!apiKey) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No API key has this id.', ['id']);
    if (!apiKey.revokedAt) {
      apiKey.revokedAt = new Date();
      await this.db.transaction(async (tx) => {
        await tx.getRepository(ApiKeyEntity).update(apiKey.id, { revokedAt: apiKey.revokedAt });
        await Authenticator.announceChange(tx);
      });
      this.onAuthChange();
    }
    return apiKey;
  }

  /** Every key of a user, newest first (the CLI's list). */
  listForUser(userId: string): Promise<ApiKeyEntity[]> {
    if (!isUuid(userId)) return Promise.resolve([]);
    return this.db.getRepository(ApiKeyEntity).find({ where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** Keys newest first, optionally of one user and state; never the keys themselves (only their hashes are stored). */
  async page(filter: { userId?: string | null; status?: ApiKeyState | null }, first: number, after?: string | null): Promise<PageSource<ApiKeyEntity>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.userId != null) where.push(isUuid(filter.userId) ? `user_id = $${params.push(filter.userId)}` : 'false');
    if (filter.status) where.push(STATE_SQL[filter.status]);
    return newestFirstPage(this.db, { list: 'ApiKey', table: 'api_keys', idType: 'uuid', where, params, toEntity: toApiKeyEntity }, first, after);
  }

  async hasActiveKey(userId: string): Promise<boolean> {
    const count = await this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.user_id = :userId AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())', { userId })
      .getCount();
    return count > 0;
  }
}
