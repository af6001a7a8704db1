import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity';

@Entity({ name: 'api_keys' })
// the apiKeys list (newest first, all or of one user) and the per-user loader read these in order
@Index('IDX_api_keys_created', ['createdAt', 'id'])
@Index('IDX_api_keys_user_created', ['userId', 'createdAt', 'id'])
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The first characters of the key, shown in listings so a person can tell keys apart. */
  @Column({ type: 'varchar', length: 16 })
  prefix: string;

  /** SHA-256 of the whole key; the key itself is never stored. */
  @Index('UQ_api_keys_key_hash', { unique: true })
  @Column({ type: 'char', length: 64, name: 'key_hash' })
  keyHash: string;

  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

export function toApiKeyEntity(row: Record<string, any>): ApiKeyEntity {
  return Object.assign(new ApiKeyEntity(), {
    id: row.id, userId: row.user_id, name: row.name, prefix: row.prefix, keyHash: row.key_hash, expiresAt: row.expires_at,
    revokedAt: row.revoked_at, lastUsedAt: row.last_used_at, createdAt: row.created_at,
  });
}
