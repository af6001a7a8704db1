import { ErrorCode, UserError } from '../core/errors';
import { isUuid } from '../core/ids';
import { findModule } from '../records/modules';
import type { RecordEntity } from '../records/record.entity';
import type { ConnectionTypeEntity } from './connection-type.entity';

/**
 * A context record ("reports to X at Organization Y") is checked like an endpoint: an existing live record of the
 * type's context module; a type without a context module takes none. `live` holds the live records looked up.
 */
export function contextRecordErrors(type: ConnectionTypeEntity, contextRecordId: string | null, live: Map<string, Pick<RecordEntity, 'id' | 'module'>>): UserError[] {
  if (contextRecordId == null) return [];
  if (!type.contextModule) return [new UserError(ErrorCode.INVALID, `"${type.name}" takes no context record.`, ['contextRecordId'])];
  const record = isUuid(contextRecordId) ? live.get(contextRecordId.toLowerCase()) : undefined;
  if (!record) return [new UserError(ErrorCode.NOT_FOUND, 'No record has this id.', ['contextRecordId'])];
  if (record.module !== type.contextModule) {
    const singular = (name: string) => findModule(name)?.singular ?? name;
    return [new UserError(ErrorCode.INVALID, `The context of "${type.name}" is a ${singular(type.contextModule)}, not a ${singular(record.module)}.`, ['contextRecordId'])];
  }
  return [];
}
