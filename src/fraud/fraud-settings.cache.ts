import type { Logger } from 'pino';
import { Notifications } from '../db/notifications';
import { NotifiedCache } from '../db/notified-cache';
import type { Queryable } from '../db/sql';
import type { FraudGeoPermissionEntity, FraudSafeListEntryEntity, GeoAction } from './fraud.entity';
import type { FraudRepository } from './fraud.repository';

export const FRAUD_SETTINGS_CHANNEL = 'countersign_fraud_settings_changed';

/** The geo permissions the environment sets at start; admins' rows (in Postgres) win over them. */
export interface GeoDefaults {
  defaultAction: GeoAction;
  allow: string[];
  block: string[];
  monitor: string[];
}

export type GeoOrigin = 'ENVIRONMENT' | 'ADMIN';

export interface GeoPermission {
  /** ISO country code, or `*` for every country not listed. */
  country: string;
  action: GeoAction;
  origin: GeoOrigin;
  updatedAt: Date | null;
}

/** A snapshot of the geo permissions and the safe list, as every send reads them. */
export class FraudSettings {
  private readonly byCountry: Map<string, GeoPermission>;

  constructor(readonly geo: GeoPermission[], readonly safeList: FraudSafeListEntryEntity[]) {
    this.byCountry = new Map(geo.map((p) => [p.country, p]));
  }

  static from(defaults: GeoDefaults, rows: FraudGeoPermissionEntity[], safeList: FraudSafeListEntryEntity[]): FraudSettings {
    const merged = new Map<string, GeoPermission>();
    const env = (country: string, action: GeoAction) => merged.set(country, { country, action, origin: 'ENVIRONMENT', updatedAt: null });
    env('*', defaults.defaultAction);
    defaults.monitor.forEach((c) => env(c, 'MONITOR'));
    defaults.allow.forEach((c) => env(c, 'ALLOW'));
    defaults.block.forEach((c) => env(c, 'BLOCK')); // a country in two lists is blocked: the safer reading
    for (const row of rows) merged.set(row.country, { country: row.country, action: row.action, origin: 'ADMIN', updatedAt: row.updatedAt });
    const geo = [...merged.values()].sort((a, b) => a.country.localeCompare(b.country));
    return new FraudSettings(geo, safeList);
  }

  /** The action for a country: its own entry, else the default (`*`). */
  geoAction(country: string | null): GeoAction {
    return (country && this.byCountry.get(country)?.action) || this.byCountry.get('*')!.action;
  }

  /** Whether a country is explicitly on the allow list (not merely allowed by default). */
  explicitlyAllowed(country: string | null): boolean {
    return !!country && this.byCountry.get(country)?.action === 'ALLOW';
  }

  isSafe(e164: string): boolean {
    return this.safeList.some((entry) => (entry.kind === 'NUMBER' ? entry.value === e164 : e164.startsWith(entry.value)));
  }
}

/**
 * Geo permissions and the safe list in memory, so a send reads no table for them. Every change is announced in the
 * changing transaction; each instance hears it (LISTEN/NOTIFY) and reloads.
 */
export class FraudSettingsCache extends NotifiedCache {
  private settings: FraudSettings;

  constructor(private readonly repository: FraudRepository, private readonly defaults: GeoDefaults, notifications: Notifications, log: Logger) {
    super(notifications, FRAUD_SETTINGS_CHANNEL, log, 'fraud guard settings');
    this.settings = FraudSettings.from(defaults, [], []);
  }

  async current(): Promise<FraudSettings> {
    await this.ready();
    return this.settings;
  }

  /** Call inside the transaction that changed the settings: every instance reloads once it commits. */
  static announceChange(tx: Queryable): Promise<void> {
    return Notifications.notify(tx, FRAUD_SETTINGS_CHANNEL);
  }

  protected async load(isCurrent: () => boolean): Promise<void> {
    const [geo, safe] = await Promise.all([this.repository.geoPermissions(), this.repository.safeList()]);
    if (!isCurrent()) return; // a newer reload is under way and will win
    this.settings = FraudSettings.from(this.defaults, geo, safe);
  }
}
