import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

import { Role } from './roles';

export type UserRole = Role;

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('UQ_users_email', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: Role;

  /** A named profile; OTP rules target profiles. */
  @Column({ type: 'varchar', length: 64, default: 'Standard' })
  profile: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

/** Maps a `users` row as Postgres returns it to the entity. */
export function toUserEntity(row: Record<string, any>): UserEntity {
  return Object.assign(new UserEntity(), {
    id: row.id, email: row.email, name: row.name, role: row.role, profile: row.profile, active: row.active,
    createdAt: row.created_at, updatedAt: row.updated_at,
  });
}
