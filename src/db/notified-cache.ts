import type { Logger } from 'pino';
import type { Notifications } from './notifications';

/**
 * An in-memory copy of some tables that every instance keeps current: a change is announced (NOTIFY on `channel`) in
 * the transaction that makes it, and each instance hears it (and any reconnect) and reloads. Reloads may overlap; the
 * newest one wins, and readers wait for a load in progress (`ready`).
 */
export abstract class NotifiedCache {
  private loading: Promise<void> | null = null;
  private generation = 0;

  protected constructor(notifications: Notifications, channel: string, log: Logger, what: string) {
    const reload = () => { void this.reload().catch((error) => log.error({ err: error }, `reloading ${what} failed`)); };
    notifications.on(channel, reload);
    notifications.onReconnect(reload);
  }

  reload(): Promise<void> {
    const generation = ++this.generation;
    const loading = this.load(() => generation === this.generation);
    this.loading = loading;
    loading.finally(() => { if (this.loading === loading) this.loading = null; }).catch(() => undefined);
    return loading;
  }

  /** Waits for a load in progress, so a reader never sees the copy from before a change it was told about. */
  protected async ready(): Promise<void> {
    if (this.loading) await this.loading;
  }

  /** Reads the tables and, only while `isCurrent()` (no newer reload started), replaces the copy. */
  protected abstract load(isCurrent: () => boolean): Promise<void>;
}
