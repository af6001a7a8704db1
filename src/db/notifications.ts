import { Client } from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from './sql';

type Handler = (payload: string) => void;

/**
 * One LISTEN connection per instance, shared by every in-memory cache (OTP rules, API keys). A change is announced
 * with NOTIFY inside the changing transaction, so listeners hear of it only once it is committed. After a lost
 * connection, notifications may have been missed: `onReconnect` handlers then reload everything.
 */
export class Notifications {
  private readonly handlers = new Map<string, Handler[]>();
  private readonly reconnectHandlers: Array<() => void> = [];
  private client: Client | null = null;
  private stopped = false;

  constructor(private readonly databaseUrl: string, private readonly log: Logger) {}

  on(channel: string, handler: Handler): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  static async notify(tx: Queryable, channel: string, payload = ''): Promise<void> {
    await tx.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'countersign-listener' });
    client.on('notification', ({ channel, payload }) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(payload ?? '');
    });
    client.on('error', (error) => {
      if (this.stopped) return;
      this.log.warn({ err: error }, 'notification listener lost its connection; reconnecting');
      void this.reconnect(client);
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN "${channel.replace(/"/g, '')}"`);
    this.client = client;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private async reconnect(old: Client): Promise<void> {
    await old.end().catch(() => undefined);
    for (let attempt = 0; !this.stopped && attempt < 10_000; attempt += 1) {
      try {
        await this.start();
        this.reconnectHandlers.forEach((handler) => handler());
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  }
}
