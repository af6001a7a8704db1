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

  /** {@link outboxStatement}: the change and its events as one statement, for a caller's message or transaction. */
  statement(source: EventRowsSql): { sql: string; params: unknown[] } {
    return outboxStatement(source);
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

/**
 * Events whose rows only the database knows (ids a data-modifying statement chose, an expiry it computed), as SQL
 * from the publishing feature: `rows` is a SELECT yielding `type`, `subject`, `data` (jsonb) and `ord` (their order),
 * reading the CTEs in `with` (which may be data-modifying: the change itself); `select` is what the statement answers
 * (a SELECT over those CTEs, never constant-false: the notices hang on it). `$n` in all three refer to `params`.
 */
export interface EventRowsSql {
  with?: string;
  rows: string;
  select: string;
  params: unknown[];
}

/** The events' subjects per notice (a subject is at most 200 characters, so 30 stay under the 8000-byte cap). */
const TOPICS_PER_NOTICE = 30;

/**
 * One statement that makes the change in `source.with` (if any), writes the events `source.rows` yields into the
 * outbox in `ord` order, and announces them with as few notices as fit (the last event's type and every subject, as
 * {@link EventPublisher.publish} does), answering `source.select`. One statement is one transaction, or it joins the
 * caller's (a pipelined message, an interactive transaction): the events exist exactly when the change does, and the
 * notices go out at commit. A change that yields no rows writes and announces nothing. The outbox is written only
 * here and in {@link EventPublisher.publish}.
 */
export function outboxStatement(source: EventRowsSql): { sql: string; params: unknown[] } {
  const channel = `'${EVENTS_CHANNEL}'`;
  return {
    sql: `WITH ${source.with ? `${source.with},\n` : ''}
     events_written AS (
       INSERT INTO event_outbox (type, subject, data)
       SELECT e.type, e.subject, e.data FROM (${source.rows}) AS e ORDER BY e.ord
       RETURNING id, type, subject),
     events_notices AS (
       SELECT json_build_object('type', (SELECT type FROM events_written ORDER BY id DESC LIMIT 1), 'topics', json_agg(t.subject ORDER BY t.first))::text AS notice
         FROM (SELECT subject, min(id) AS first, (row_number() OVER (ORDER BY min(id)) - 1) / ${TOPICS_PER_NOTICE} AS chunk
                 FROM events_written GROUP BY subject) AS t
        GROUP BY t.chunk)
     SELECT * FROM (${source.select}) AS answer
      WHERE (SELECT count(pg_notify(${channel}, n.notice)) FROM events_notices AS n) >= 0`,
    params: source.params,
  };
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
