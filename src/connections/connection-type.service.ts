import { setHistoryActor } from './connection-history';
import type { DataSource, EntityManager } from 'typeorm';
import { BadUserInput, ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isUuid } from '../core/ids';
import { queryRows, type Queryable } from '../db/sql';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { findModule } from '../records/modules';
import { toConnectionTypeEntity, type ConnectionTypeEntity } from './connection-type.entity';
import {
  CONNECTABLE_MODULES, ConnectionPolicy, type CreateConnectionTypeInput, type UpdateConnectionTypeInput,
} from './connection-type.types';
import { checkConnectionType, type CheckedConnectionType, type ConnectionTypeDraft } from './connection-type.validation';
import { END_CONNECTION_SET_SQL, MISFITS_OF_TYPE_SQL } from './connection-fit';
import type { EventPublisher } from '../events/event-publisher';
import { CONNECTION_COLUMNS, toConnectionEntity } from './connection.entity';
import { connectionEvent } from './connection.events';
import { deleteConnections } from './connection-writes';

const TYPE_NAMES_LOCK = 7_310_305; // pg_advisory_xact_lock key: name-uniqueness checks of types run one at a time
const LISTED_IN_MESSAGE = 10;

/** A change refused under RESTRICT, carrying the connections in the way so the payload can list them. */
export class ConnectionsInTheWay extends UserErrorException {
  constructor(userErrors: UserError[], readonly connectionIds: string[]) {
    super(userErrors);
  }
}

export interface TypeChangeResult {
  connectionType: ConnectionTypeEntity;
  affectedConnectionIds: string[];
}

/** Admin-defined connection types: their rules, and what a change does to the connections already made. */
export class ConnectionTypeService {
  constructor(private readonly db: DataSource, private readonly events: EventPublisher) {}

  /**
   * Types usable with records of `module` (on either side), or all: system types first, then by name. `active`:
   * omitted (undefined) or true, the active ones; false, the inactive ones; null, both.
   */
  async page(filter: { module?: string | null; active?: boolean | null }, first: number, after?: string | null): Promise<PageSource<ConnectionTypeEntity>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const module = this.connectableModule(filter.module);
    if (module) where.push(`($${params.push(module)} = ANY(source_modules) OR $${params.length} = ANY(target_modules))`);
    const active = filter.active === undefined ? true : filter.active;
    if (active !== null) where.push(`active = $${params.push(active)}`);
    const counted = { where: [...where], params: [...params] };
    if (after) {
      const [, isSystem, nameKey, id] = decodeCursor(after, [(v) => v === 'ConnectionType', (v) => typeof v === 'boolean', 'text', 'uuid']);
      // (NOT is_system, lower(name), id) is the order of IDX_connection_types_listing: system types first
      where.push(`(NOT is_system, lower(name), id) > (NOT $${params.push(isSystem)}::boolean, $${params.push(nameKey)}, $${params.push(id)}::uuid)`);
    }
    const clause = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
    const rows: Array<Record<string, any>> = await this.db.query(
      `SELECT *, lower(name) AS name_key FROM connection_types ${clause(where)} ORDER BY NOT is_system, lower(name), id LIMIT $${params.push(first + 1)}`, params);
    const nameKeys = new Map<ConnectionTypeEntity, string>();
    const types = rows.map((row) => {
      const type = toConnectionTypeEntity(row);
      nameKeys.set(type, row.name_key);
      return type;
    });
    return {
      rows: types,
      first,
      cursorOf: (type) => encodeCursor(['ConnectionType', type.isSystem, nameKeys.get(type), type.id]),
      count: async () => (await this.db.query(`SELECT count(*)::int AS n FROM connection_types ${clause(counted.where)}`, counted.params))[0].n,
    };
  }

  /** The module's canonical name; a module connections cannot use is a client error naming `module`. */
  private connectableModule(moduleName: string | null | undefined): string | null {
    let module: string | null = null;
    if (moduleName) {
      const found = findModule(moduleName);
      if (!found || !CONNECTABLE_MODULES.includes(found.name)) {
        throw new BadUserInput(`"${moduleName}" cannot be connected; the modules are ${CONNECTABLE_MODULES.join(', ')}.`, 'module');
      }
      module = found.name;
    }
    return module;
  }

  async create(input: CreateConnectionTypeInput): Promise<ConnectionTypeEntity> {
    const { type, errors } = checkConnectionType({ ...input, properties: input.properties ?? [] });
    if (errors.length) throw new UserErrorException(errors);
    return this.db.transaction(async (tx) => {
      await this.assertNameFree(tx, type, null);
      const [row] = await tx.query(
        `INSERT INTO connection_types (name, inverse_name, "symmetric", source_modules, target_modules, allow_self, properties, active, context_module)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [type.name, type.inverseName, type.symmetric, type.sourceModules, type.targetModules, type.allowSelf, JSON.stringify(type.properties), type.active,
          type.contextModule],
      );
      return toConnectionTypeEntity(row);
    });
  }

  /**
   * Changes a type. Connections that the new modules, properties or self-link rule would leave not fitting are
   * handled by `policy`; with RESTRICT the change is refused and they are listed. Misfits are found by running the
   * same SQL test before and after the change inside the transaction, so the rules live in one place.
   */
  async update(id: string, input: UpdateConnectionTypeInput, policy: ConnectionPolicy, actorId: string | null = null): Promise<TypeChangeResult> {
    return this.db.transaction(async (tx) => {
      await setHistoryActor(tx, actorId);
      const current = await this.lockType(tx, id);
      const draft: ConnectionTypeDraft = {
        name: input.name ?? current.name,
        inverseName: input.inverseName ?? (input.name != null && current.symmetric ? input.name : current.inverseName),
        symmetric: current.symmetric,
        sourceModules: input.sourceModules ?? current.sourceModules,
        targetModules: input.targetModules ?? current.targetModules,
        allowSelf: input.allowSelf ?? current.allowSelf,
        properties: input.properties ?? current.properties,
        active: input.active ?? current.active,
        contextModule: input.contextModule === undefined ? current.contextModule : input.contextModule,
      };
      const { type, errors } = checkConnectionType(draft);
      if (errors.length) throw new UserErrorException(errors);
      if (type.contextModule !== current.contextModule) await assertNoContextRecords(tx, id);
      await this.assertNameFree(tx, type, id);
      const misfitsBefore = await misfitsOf(tx, id);
      const [row] = await queryRows(tx,
        `UPDATE connection_types SET name = $2, inverse_name = $3, source_modules = $4, target_modules = $5, allow_self = $6,
                properties = $7, active = $8, context_module = $9, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [id, type.name, type.inverseName, type.sourceModules, type.targetModules, type.allowSelf, JSON.stringify(type.properties), type.active,
          type.contextModule],
      );
      const affected = await this.applyPolicy(tx, newMisfits(misfitsBefore, await misfitsOf(tx, id)), policy);
      return { connectionType: toConnectionTypeEntity(row), affectedConnectionIds: affected };
    });
  }

  /** Deletes a type that no connection uses; with DELETE its connections go too. System types are never deleted. */
  async delete(id: string, policy: ConnectionPolicy, actorId: string | null = null): Promise<TypeChangeResult> {
    if (policy !== ConnectionPolicy.RESTRICT && policy !== ConnectionPolicy.DELETE) {
      throw UserErrorException.of(ErrorCode.INVALID, 'Deleting a type takes RESTRICT or DELETE; to keep its connections, deactivate the type instead.', ['policy']);
    }
    return this.db.transaction(async (tx) => {
      await setHistoryActor(tx, actorId);
      const type = await this.lockType(tx, id);
      if (type.isSystem) {
        throw UserErrorException.of(ErrorCode.FORBIDDEN, `"${type.name}" is a system type: it can be deactivated but not deleted.`, ['id']);
      }
      const used: Array<{ id: string }> = await tx.query('SELECT id FROM connections WHERE type_id = $1 ORDER BY created_at, id', [id]);
      const ids = used.map((r) => r.id);
      if (ids.length && policy === ConnectionPolicy.RESTRICT) {
        throw new ConnectionsInTheWay([new UserError(ErrorCode.IN_USE,
          `${ids.length} connection(s) use "${type.name}" (${listed(ids)}); delete them first, pass policy DELETE, or deactivate the type.`, ['id'])], ids);
      }
      await deleteConnections(tx, this.events, 'c.type_id = $1', [id]);
      await tx.query('DELETE FROM connection_types WHERE id = $1', [id]);
      return { connectionType: type, affectedConnectionIds: ids };
    });
  }

  /** Handles the connections this change made misfit; ones that already misfit before (kept with IGNORE) are left alone. */
  private async applyPolicy(tx: EntityManager, misfits: Misfit[], policy: ConnectionPolicy): Promise<string[]> {
    const ids = misfits.map((m) => m.id);
    if (ids.length === 0) return [];
    switch (policy) {
      case ConnectionPolicy.RESTRICT:
        throw new ConnectionsInTheWay([new UserError(ErrorCode.IN_USE,
          `${ids.length} connection(s) would no longer fit this type (${listed(ids)}); choose policy IGNORE, END or DELETE, or change them first.`,
          ['policy'])], ids);
      case ConnectionPolicy.IGNORE:
        return ids;
      case ConnectionPolicy.DELETE: {
        await deleteConnections(tx, this.events, 'c.id = ANY($1::uuid[])', [ids]);
        return ids;
      }
      case ConnectionPolicy.END: {
        // Ended connections are history: their misfit is accepted, so the integrity report leaves them out. As an
        // update does, an end date set or moved publishes connection.ended (one already ended in the past keeps its date).
        const ended = await queryRows(tx,
          `UPDATE connections c SET ${END_CONNECTION_SET_SQL},
                  acknowledged_issues = ARRAY(SELECT DISTINCT unnest(c.acknowledged_issues || m.kinds::varchar[])), updated_at = now()
             FROM (SELECT m.id AS misfit_id, m.kinds, o.end_date AS old_end_date
                     FROM jsonb_to_recordset($1::jsonb) AS m(id uuid, kinds text[]) JOIN connections o ON o.id = m.id) AS m
            WHERE c.id = m.misfit_id
        RETURNING ${CONNECTION_COLUMNS}, m.old_end_date IS DISTINCT FROM c.end_date AS end_moved`,
          [JSON.stringify(misfits)],
        );
        await this.events.publish(tx, inOrder(ended.filter((row) => row.end_moved), ids).map((row) => connectionEvent('connection.ended', toConnectionEntity(row))));
        return ids;
      }
    }
  }

  private async lockType(tx: EntityManager, id: string): Promise<ConnectionTypeEntity> {
    const rows = isUuid(id) ? await tx.query('SELECT * FROM connection_types WHERE id = $1 FOR UPDATE', [id]) : [];
    if (!rows[0]) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No connection type has this id.', ['id']);
    return toConnectionTypeEntity(rows[0]);
  }

  /**
   * Names are unique per module pair, case-insensitively: no other type with this name may share a source and a
   * target module (in either order when either type is symmetric). Serialised by an advisory lock.
   */
  private async assertNameFree(tx: EntityManager, type: CheckedConnectionType, exceptId: string | null): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [TYPE_NAMES_LOCK]);
    const clashes: Array<{ id: string; name: string }> = await tx.query(
      `SELECT id, name FROM connection_types
        WHERE lower(name) = lower($1) AND ($2::uuid IS NULL OR id <> $2)
          AND ((source_modules && $3::varchar[] AND target_modules && $4::varchar[])
               OR (("symmetric" OR $5) AND source_modules && $4::varchar[] AND target_modules && $3::varchar[]))
        LIMIT 1`,
      [type.name, exceptId, type.sourceModules, type.targetModules, type.symmetric],
    );
    if (clashes[0]) {
      throw UserErrorException.of(ErrorCode.TAKEN, `A connection type named "${clashes[0].name}" already links these modules (${clashes[0].id}).`, ['name']);
    }
  }
}

interface Misfit { id: string; kinds: string[] }

function misfitsOf(tx: EntityManager, typeId: string): Promise<Misfit[]> {
  return tx.query(MISFITS_OF_TYPE_SQL, [typeId]);
}

/** The misfits (and kinds of misfit) in `after` that were not there `before`. */
function newMisfits(before: Misfit[], after: Misfit[]): Misfit[] {
  const old = new Map(before.map((m) => [m.id, new Set(m.kinds)]));
  return after
    .map((m) => ({ id: m.id, kinds: m.kinds.filter((kind) => !old.get(m.id)?.has(kind)) }))
    .filter((m) => m.kinds.length > 0);
}

/** `rows` (with an `id`) in the order of `ids`, so the ended connections' events follow the order the payload lists them in. */
function inOrder<T extends Record<string, any>>(rows: T[], ids: string[]): T[] {
  const position = new Map(ids.map((id, i) => [id, i]));
  return [...rows].sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
}

function listed(ids: string[]): string {
  return ids.slice(0, LISTED_IN_MESSAGE).join(', ') + (ids.length > LISTED_IN_MESSAGE ? `, and ${ids.length - LISTED_IN_MESSAGE} more` : '');
}

/** The context module changes only while no connection of the type names a context record (they would stop fitting). */
async function assertNoContextRecords(tx: Queryable, typeId: string): Promise<void> {
  const rows: Array<{ id: string }> = await tx.query('SELECT id FROM connections WHERE type_id = $1 AND context_record_id IS NOT NULL LIMIT 1', [typeId]);
  if (rows.length) {
    throw UserErrorException.of(ErrorCode.IN_USE, `Connections of this type name context records (e.g. connection ${rows[0].id}); clear them before changing the context module.`, ['contextModule']);
  }
}
