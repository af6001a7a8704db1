import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type PropertyType = 'TEXT' | 'NUMBER' | 'DATE' | 'BOOLEAN' | 'PICKLIST';

/** One custom property a connection of the type may (or must) carry. */
export interface PropertyDefinition {
  key: string;
  label: string;
  type: PropertyType;
  required: boolean;
  /** Allowed values of a PICKLIST; empty for the other types. */
  options: string[];
}

/** What a connection means ("is working at" / "employs"), between which modules, with which properties. */
@Entity({ name: 'connection_types' })
// the connectionTypes list's order (system types first, then by name): an expression index the migration creates
@Index('IDX_connection_types_listing', { synchronize: false })
export class ConnectionTypeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The label read from the source side, e.g. "is working at". */
  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The label read from the target side, e.g. "employs"; equal to `name` for symmetric types. */
  @Column({ type: 'varchar', length: 100, name: 'inverse_name' })
  inverseName: string;

  @Column({ type: 'boolean', default: false })
  symmetric: boolean;

  @Column({ type: 'varchar', length: 32, array: true, name: 'source_modules' })
  sourceModules: string[];

  @Column({ type: 'varchar', length: 32, array: true, name: 'target_modules' })
  targetModules: string[];

  @Column({ type: 'boolean', default: false, name: 'allow_self' })
  allowSelf: boolean;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  properties: PropertyDefinition[];

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** The module of the record a connection may name as its context ("reports to X at Organization Y"); null: none. */
  @Column({ type: 'varchar', length: 32, name: 'context_module', nullable: true })
  contextModule: string | null;

  @Column({ type: 'boolean', default: false, name: 'is_system' })
  isSystem: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

/** Maps a `connection_types` row as Postgres returns it to the entity. */
export function toConnectionTypeEntity(row: Record<string, any>): ConnectionTypeEntity {
  return Object.assign(new ConnectionTypeEntity(), {
    id: row.id,
    name: row.name,
    inverseName: row.inverse_name,
    symmetric: row.symmetric,
    sourceModules: row.source_modules,
    targetModules: row.target_modules,
    allowSelf: row.allow_self,
    properties: row.properties,
    active: row.active,
    contextModule: row.context_module ?? null,
    isSystem: row.is_system,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
