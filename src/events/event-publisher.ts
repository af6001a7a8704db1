import type { DataSource } from 'typeorm';
import type { Queryable } from '../db/sql';
import type { DomainEvent } from './event-types';

/** The NOTIFY channel every published event is announced on, once its transaction commits. */
export const EVENTS_CHANNEL = 'countersign_events';

/** What a NOTIFY carries: enough to route and to wake the dispatcher (NOTIFY payloads are capped at 8000 bytes). */
export interface EventNotice {
  type: string;
  topics: string[];
}

/**
 * What other features call to publish: `publish(tx, event)` with the transaction (EntityManager or query runner)
 * that makes the change, so the event is stored and announced exactly when the change commits, and never otherwise.
 */
export class EventPublisher {
  async publish(q: Queryable, events: DomainEvent | DomainEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events];
    if (list.length === 0) return;
    await q.query(
      `WITH written AS (
         INSERT INTO event_outbox (type, subject, data)
         SELECT e.value->>'type', e.value->>'subject', e.value->'data' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, n)
          ORDER BY e.n
         RETURNING id)
       SELECT pg_notify($2, n.notice) FROM jsonb_array_elements_text($3::jsonb) AS n(notice)`,
      [
        JSON.stringify(list.map(({ type, subject, data }) => ({ type, subject, data }))),
        EVENTS_CHANNEL,
        JSON.stringify(noticesFor(list)),
      ],
    );
  }

  /**
   * For a change that is one statement outside any transaction: runs `change` and publishes what it returns in one
   * transaction, so the event exists exactly when the change does.
   */
  async withEvents<T>(db: Pick<DataSource, 'transaction'>, change: (tx: Queryable) => Promise<T>, toEvents: (result: T) => DomainEvent | DomainEvent[]): Promise<T> {
    return db.transaction(async (tx) => {
      const result = await change(tx);
      await this.publish(tx, toEvents(result));
      return result;
    });
  }
}

const MAX_NOTICE_CHARS = 7000; // NOTIFY payloads must stay under 8000 bytes

/** As few notices as fit (usually one per call, since each is queued at commit under one lock): the last type, every topic. */
function noticesFor(events: DomainEvent[]): string[] {
  const type = events[events.length - 1].type;
  const notices: string[] = [];
  let topics: string[] = [];
  for (const topic of new Set(events.flatMap((e) => e.topics ?? [e.subject]))) {
    if (topics.length && JSON.stringify({ type, topics: [...topics, topic] }).length > MAX_NOTICE_CHARS) {
      notices.push(JSON.stringify({ type, topics } satisfies EventNotice));
      topics = [];
    }
    topics.push(topic);
  }
  notices.push(JSON.stringify({ type, topics } satisfies EventNotice));
  return notices;
}
