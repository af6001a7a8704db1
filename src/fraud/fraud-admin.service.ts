import type { DataSource } from 'typeorm';
import type { RequestContext } from '../core/context';
import { BadUserInput, ErrorCode, UserError, UserErrorException } from '../core/errors';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { FRAUD_EVENT_KINDS, type BlockReason, type FraudEventEntity, type FraudPrefixBlockEntity, type FraudSafeListEntryEntity, type GeoAction, type SafeListKind } from './fraud.entity';
import { FraudRepository, type SummaryRow, type TimeRange } from './fraud.repository';
import { FraudSettingsCache, type GeoPermission } from './fraud-settings.cache';
import { profileOf } from './number-profile';

export interface SafeListEntryCommand {
  kind: SafeListKind;
  value: string;
  note?: string | null;
}

const COUNTRY = /^([A-Z]{2}|\*)$/;
const PREFIX = /^\+[1-9]\d{1,13}$/;

/** What admins run the fraud guard with: the lists, the blocks, the refused sends and the conversion summary. */
export class FraudAdminService {
  constructor(
    private readonly db: DataSource, private readonly repository: FraudRepository, private readonly settings: FraudSettingsCache,
    /** FRAUD_EVENTS_RETENTION_DAYS: events older are deleted by {@link pruneOldEvents}; 0 keeps them all. */
    private readonly eventRetentionDays = 0,
  ) {}

  /**
   * Deletes the events older than the retention, in batches of `batch` per kind, at most `maxBatches` batches per kind
   * a call (10⁶ rows a kind; a sweep that falls behind catches up on the next ones instead of running on). Answers how
   * many went. Swept every 5 minutes, that is over 3,000 events a second per kind, far above any send rate.
   */
  async pruneOldEvents(batch = 5_000, maxBatches = 200): Promise<number> {
    if (this.eventRetentionDays === 0) return 0;
    let deleted = 0;
    for (const kind of FRAUD_EVENT_KINDS) {
      for (let round = 0; round < maxBatches; round += 1) {
        const n = await this.repository.deleteEventsOlderThan(kind, this.eventRetentionDays, batch);
        deleted += n;
        if (n < batch) break;
      }
    }
    return deleted;
  }

  async blockedSends(range: Partial<TimeRange>, reason: BlockReason | null, first: number, after?: string | null): Promise<PageSource<FraudEventEntity>> {
    return this.repository.blockedSends(rangeOf(range), reason, first, after);
  }

  async prefixBlocks(activeOnly: boolean, first: number, after?: string | null): Promise<PageSource<FraudPrefixBlockEntity>> {
    return this.repository.blocks(activeOnly, first, after);
  }

  /** Lifts the block on a prefix at once; the prefix's counters start afresh. */
  async unblockPrefix(ctx: RequestContext, prefix: string): Promise<FraudPrefixBlockEntity> {
    const value = prefix.trim();
    if (!PREFIX.test(value)) throw UserErrorException.of(ErrorCode.INVALID, 'A prefix is + and 2 to 14 digits, e.g. +4479111.', ['prefix']);
    const [lifted] = await this.repository.liftBlocks(value, ctx.user.id);
    if (!lifted) throw UserErrorException.of(ErrorCode.NOT_FOUND, `No block is in force on ${value}.`, ['prefix']);
    ctx.log.info({ prefix: value, blockId: lifted.id }, 'prefix unblocked by an admin');
    return lifted;
  }

  async geoPermissions(first: number, after?: string | null): Promise<PageSource<GeoPermission>> {
    const offset = offsetOf(after);
    const all = (await this.settings.current()).geo;
    return offsetPage(all.slice(offset, offset + first + 1), offset, first, async () => all.length);
  }

  /** Sets a country's permission (`*`: the default for countries not listed); wins over the environment, on every instance. */
  async setGeoPermission(ctx: RequestContext, country: string, action: GeoAction): Promise<GeoPermission> {
    const code = checkedCountry(country);
    await this.changeSettings((repository) => repository.setGeoPermission(code, action, ctx.user.id));
    ctx.log.info({ country: code, action }, 'geo permission set');
    return this.geoOf(code);
  }

  /** Removes an admin's permission for a country: the environment's (or the default) applies again. */
  async removeGeoPermission(ctx: RequestContext, country: string): Promise<GeoPermission> {
    const code = checkedCountry(country);
    let removed = false;
    await this.changeSettings(async (repository) => { removed = await repository.removeGeoPermission(code); });
    if (!removed) throw UserErrorException.of(ErrorCode.NOT_FOUND, `No admin permission is set for ${code}.`, ['country']);
    ctx.log.info({ country: code }, 'geo permission removed');
    return this.geoOf(code);
  }

  async safeList(first: number, after?: string | null): Promise<PageSource<FraudSafeListEntryEntity>> {
    const offset = offsetOf(after);
    const all = (await this.settings.current()).safeList;
    return offsetPage(all.slice(offset, offset + first + 1), offset, first, async () => all.length);
  }

  async addSafeListEntry(ctx: RequestContext, command: SafeListEntryCommand): Promise<FraudSafeListEntryEntity> {
    const value = command.value.trim();
    const note = command.note?.trim() || null;
    const errors: UserError[] = [];
    if (command.kind === 'NUMBER' && !(PREFIX.test(value) && profileOf(value).type !== 'UNKNOWN')) {
      errors.push(new UserError(ErrorCode.INVALID, 'A NUMBER entry is a valid number in E.164 form, e.g. +447911123456.', ['input', 'value']));
    }
    if (command.kind === 'PREFIX' && !PREFIX.test(value)) errors.push(new UserError(ErrorCode.INVALID, 'A PREFIX entry is + and 2 to 14 digits, e.g. +4479111.', ['input', 'value']));
    if (note && note.length > 200) errors.push(new UserError(ErrorCode.INVALID, 'A note has at most 200 characters.', ['input', 'note']));
    if (errors.length) throw new UserErrorException(errors);
    let entry: FraudSafeListEntryEntity | null = null;
    await this.changeSettings(async (repository) => { entry = await repository.addSafeListEntry(command.kind, value, note, ctx.user.id); });
    if (!entry) throw UserErrorException.of(ErrorCode.TAKEN, `${value} is already on the safe list.`, ['input', 'value']);
    ctx.log.info({ kind: command.kind }, 'safe list entry added');
    return entry;
  }

  async removeSafeListEntry(ctx: RequestContext, id: string): Promise<FraudSafeListEntryEntity> {
    let entry: FraudSafeListEntryEntity | null = null;
    if (/^[0-9a-f-]{36}$/i.test(id)) await this.changeSettings(async (repository) => { entry = await repository.removeSafeListEntry(id); });
    if (!entry) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No safe list entry has this id.', ['id']);
    ctx.log.info({ id }, 'safe list entry removed');
    return entry;
  }

  async conversionSummary(range: Partial<TimeRange>, first: number, after?: string | null): Promise<PageSource<SummaryRow>> {
    const offset = offsetOf(after);
    const { rows, total } = await this.repository.summary(rangeOf(range), offset, first + 1);
    return offsetPage(rows, offset, first, total);
  }

  /** Changes the settings in a transaction that announces it (every instance reloads), then reloads here before answering. */
  private async changeSettings(change: (repository: FraudRepository) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await change(this.repository.with(tx));
      await FraudSettingsCache.announceChange(tx);
    });
    await this.settings.reload();
  }

  private async geoOf(country: string): Promise<GeoPermission> {
    const settings = await this.settings.current();
    return settings.geo.find((p) => p.country === country) ?? { country, action: settings.geoAction(country), origin: 'ENVIRONMENT', updatedAt: null };
  }
}

function checkedCountry(country: string): string {
  const code = country.trim().toUpperCase();
  if (!COUNTRY.test(code)) throw UserErrorException.of(ErrorCode.INVALID, 'A country is a two-letter ISO code (IN, GB) or * for the default.', ['country']);
  return code;
}

function rangeOf(range: Partial<TimeRange>): TimeRange {
  const to = range.to ?? new Date(Date.now() + 1000);
  const from = range.from ?? new Date(to.getTime() - 24 * 3600_000);
  if (from >= to) throw new BadUserInput('`from` must be before `to`.', 'from');
  return { from, to };
}

function offsetOf(after?: string | null): number {
  return after ? (decodeCursor(after, [(v) => Number.isInteger(v) && (v as number) > 0 && (v as number) < 1e9])[0] as number) : 0;
}

/** A page over rows fetched from `offset` (up to first + 1 of them); cursors are positions. */
function offsetPage<T>(rows: T[], offset: number, first: number, total: () => Promise<number>): PageSource<T> {
  const positions = new Map(rows.map((row, i) => [row, offset + i + 1]));
  return { rows, first, cursorOf: (row) => encodeCursor([positions.get(row)!]), count: total };
}
