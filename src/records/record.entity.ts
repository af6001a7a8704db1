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

/** Maps a `records` row as Postgres returns it to the entity (assigned one by one: pages map thousands of rows). */
export function toRecordEntity(row: Record<string, any>): RecordEntity {
  return recordEntity(row, row.created_at, row.updated_at, row.deleted_at);
}

/** Maps a row embedded as JSON (see `recordJsonSql`), whose timestamps arrive as text, to the entity. */
export function toRecordEntityFromJson(json: Record<string, any>): RecordEntity {
  return recordEntity(json, new Date(json.created_at), new Date(json.updated_at), json.deleted_at ? new Date(json.deleted_at) : null);
}

function recordEntity(row: Record<string, any>, createdAt: Date, updatedAt: Date, deletedAt: Date | null): RecordEntity {
  const record = new RecordEntity();
  record.id = row.id;
  record.module = row.module;
  record.label = row.label;
  record.fields = row.fields;
  record.ownerId = row.owner_id;
  record.version = row.version;
  record.createdAt = createdAt;
  record.updatedAt = updatedAt;
  record.deletedAt = deletedAt;
  record.mergedIntoId = row.merged_into ?? null;
  return record;
}
