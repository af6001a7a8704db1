import {
  Check, Column, CreateDateColumn, Entity, Exclusion, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn,
} from 'typeorm';
import { UserEntity } from '../auth/user.entity';
import { RecordEntity } from '../records/record.entity';
import { ConnectionTypeEntity } from './connection-type.entity';

export type ConnectionProperties = Record<string, unknown>;

/**
 * The storage-level duplicate guard: one type, the same two records (in either order when the type is symmetric),
 * overlapping date ranges (open ends are infinite, both ends inclusive). Needs btree_gist for `uuid WITH =`.
 */
export const NO_OVERLAP_CONSTRAINT = 'EX_connections_no_overlap';
const NO_OVERLAP = `USING gist ("type_id" WITH =, `
  + `(CASE WHEN "symmetric" THEN LEAST("source_id", "target_id") ELSE "source_id" END) WITH =, `
  + `(CASE WHEN "symmetric" THEN GREATEST("source_id", "target_id") ELSE "target_id" END) WITH =, `
  + `daterange(COALESCE("start_date", '-infinity'::date), COALESCE("end_date", 'infinity'::date), '[]') WITH &&)`;

/** A typed link between two records, stored once and read from either side. */
@Entity({ name: 'connections' })
@Index('IDX_connections_source', ['sourceId', 'createdAt', 'id'])
@Index('IDX_connections_target', ['targetId', 'createdAt', 'id'])
@Index('IDX_connections_context_record', ['contextRecordId'], { where: '"context_record_id" IS NOT NULL' })
@Check('CHK_connections_dates', '"start_date" IS NULL OR "end_date" IS NULL OR "start_date" <= "end_date"')
@Exclusion(NO_OVERLAP_CONSTRAINT, NO_OVERLAP)
export class ConnectionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', name: 'type_id' })
  typeId: string;

  @ManyToOne(() => ConnectionTypeEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'type_id' })
  type?: ConnectionTypeEntity;

  @Column({ type: 'uuid', name: 'source_id' })
  sourceId: string;

  /** Hard-deleting a record removes its connections; a soft delete only hides them. */
  @ManyToOne(() => RecordEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id' })
  source?: RecordEntity;

  @Column({ type: 'uuid', name: 'target_id' })
  targetId: string;

  @ManyToOne(() => RecordEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'target_id' })
  target?: RecordEntity;

  /** Copied from the type (which cannot change it), so the exclusion constraint can see it. */
  @Column({ type: 'boolean', default: false })
  symmetric: boolean;

  /** `YYYY-MM-DD`; null means "since always". */
  @Column({ type: 'date', name: 'start_date', nullable: true })
  startDate: string | null;

  /** `YYYY-MM-DD`, the last day in force; null means open-ended. */
  @Column({ type: 'date', name: 'end_date', nullable: true })
  endDate: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  properties: ConnectionProperties;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  notes: string | null;

  /** The record the connection happened in (of the type's context module), e.g. the organization of "reports to". */
  @Column({ type: 'uuid', name: 'context_record_id', nullable: true })
  contextRecordId: string | null;

  @ManyToOne(() => RecordEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'context_record_id', foreignKeyConstraintName: 'FK_connections_context_record' })
  contextRecord?: RecordEntity | null;

  /** Integrity findings an admin accepted (repair IGNORE or END); the report leaves them out. */
  @Column({ type: 'varchar', length: 32, array: true, name: 'acknowledged_issues', default: () => "'{}'" })
  acknowledgedIssues: string[];

  @Column({ type: 'uuid', name: 'created_by' })
  createdById: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'created_by' })
  createdBy?: UserEntity;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

/**
 * The columns every connection query selects: dates as text, so `pg` never turns them into local-midnight Dates.
 * `c` must alias the connections table.
 */
export const CONNECTION_COLUMNS = `c.id, c.type_id, c.source_id, c.target_id, c.symmetric, c.start_date::text AS start_date,
  c.end_date::text AS end_date, c.properties, c.notes, c.context_record_id, c.acknowledged_issues, c.created_by, c.created_at, c.updated_at`;

/** Maps a row selected with {@link CONNECTION_COLUMNS} to the entity. */
export function toConnectionEntity(row: Record<string, any>): ConnectionEntity {
  return Object.assign(new ConnectionEntity(), {
    id: row.id,
    typeId: row.type_id,
    sourceId: row.source_id,
    targetId: row.target_id,
    symmetric: row.symmetric,
    startDate: row.start_date,
    endDate: row.end_date,
    properties: row.properties,
    notes: row.notes,
    contextRecordId: row.context_record_id ?? null,
    acknowledgedIssues: row.acknowledged_issues,
    createdById: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
