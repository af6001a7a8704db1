import {
  Column, CreateDateColumn, DeleteDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn,
  UpdateDateColumn, VersionColumn,
} from 'typeorm';
import { UserEntity } from '../auth/user.entity';

export type RecordFields = Record<string, unknown>;

@Entity({ name: 'records' })
@Index('IDX_records_module_created', ['module', 'createdAt', 'id'])
@Index('IDX_records_merged_into', ['mergedIntoId'], { where: '"merged_into" IS NOT NULL' })
export class RecordEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 32 })
  module: string;

  @Column({ type: 'varchar', length: 500 })
  label: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  fields: RecordFields;

  @Column({ type: 'uuid', name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'owner_id' })
  owner?: UserEntity;

  @VersionColumn({ type: 'integer', default: 1 })
  version: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

  @DeleteDateColumn({ type: 'timestamptz', name: 'deleted_at' })
  deletedAt: Date | null;

  /** Set when the record was merged into another (it is soft-deleted then); reading it answers that record. */
  @Column({ type: 'uuid', name: 'merged_into', nullable: true })
  mergedIntoId: string | null;

  @ManyToOne(() => RecordEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'merged_into', foreignKeyConstraintName: 'FK_records_merged_into' })
  mergedInto?: RecordEntity | null;
}

/** Maps a `records` row as Postgres returns it to the entity. */
export function toRecordEntity(row: Record<string, any>): RecordEntity {
  return Object.assign(new RecordEntity(), {
    id: row.id,
    module: row.module,
    label: row.label,
    fields: row.fields,
    ownerId: row.owner_id,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    mergedIntoId: row.merged_into ?? null,
  });
}

/** Maps a row embedded as JSON (see `recordJsonSql`), whose timestamps arrive as text, to the entity. */
export function toRecordEntityFromJson(json: Record<string, any>): RecordEntity {
  return toRecordEntity({
    ...json,
    created_at: new Date(json.created_at),
    updated_at: new Date(json.updated_at),
    deleted_at: json.deleted_at ? new Date(json.deleted_at) : null,
  });
}
