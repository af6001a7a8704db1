import { Client } from 'pg';
import type { TestServer } from './test-server';

/**
 * Counts the round trips the server makes to Postgres while it answers one request, by wrapping `pg.Client#query` —
 * the one door through which TypeORM (every service, loader and the API-key lookup), pg-boss, the rate limits and the
 * raw pools reach the database. A multi-statement message is one round trip. The test's own `t.sql` client is never
 * used while a request is being counted. Start the server without background pollers (`OTP_WORKER: 'false'`,
 * `WEBHOOKS_WORKER: 'false'`) so only the request's statements are seen.
 */
export class StatementCounter {
  private counted: string[] | null = null;
  private readonly originalQuery = Client.prototype.query;

  constructor(private readonly t: () => TestServer) {}

  install(): void {
    const counter = this;
    const originalQuery = this.originalQuery;
    (Client.prototype as any).query = function countingQuery(this: Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      if (counter.counted && text) counter.counted.push(text);
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    };
  }

  uninstall(): void {
    Client.prototype.query = this.originalQuery;
  }

  /** The statements sent while `request` ran, and its result. */
  async count<T>(request: () => Promise<T>): Promise<{ statements: string[]; result: T }> {
    await this.t().gql('{ me { id } }'); // the key's last-used stamp is written (once a minute) on first use: get it out of the way
    await this.waitForLastUsedStamp();
    this.counted = [];
    try {
      const result = await request();
      return { statements: this.counted, result };
    } finally {
      this.counted = null;
    }
  }

  private async waitForLastUsedStamp(): Promise<void> {
    for (let i = 0; i < 10_000; i += 1) {
      const [row] = await this.t().sql(`SELECT count(*)::int AS n FROM api_keys WHERE last_used_at > now() - interval '30 seconds'`);
      if (row.n > 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('the API key was never stamped as used');
  }
}
