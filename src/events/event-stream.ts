import type { Notifications } from '../db/notifications';
import { EVENTS_CHANNEL, type EventNotice } from './event-publisher';

/**
 * What a subscriber hears: `snapshot` first (so the subscription answers with the current state, and checks access,
 * at once), then each committed event's type, or `resync` after the listener reconnected (events may have been
 * missed). `stop()` ends the subscription (a resolver that finds the caller may not see the subject calls it).
 */
export interface StreamedEvent {
  type: string;
  topic: string;
  stop(): void;
}

const MAX_BUFFERED = 100;

/**
 * Committed events, heard through this instance's LISTEN connection (whichever instance made the change), handed to
 * the subscriptions listening on their topics. A subscriber too slow to keep up loses the oldest notices, never the
 * newest: subscriptions reload the current state on each one, so the last notice is the one that matters.
 */
export class EventStream {
  /** type-graphql's PubSub shape: publishing goes through the outbox (EventPublisher), never through here. */
  publish(): void {
    throw new Error('Events are published with EventPublisher.publish inside the change\'s transaction.');
  }

  private readonly listeners = new Map<string, Set<(event: Omit<StreamedEvent, 'stop'>) => void>>();

  constructor(notifications: Notifications) {
    notifications.on(EVENTS_CHANNEL, (payload) => this.dispatch(payload));
    notifications.onReconnect(() => {
      for (const [topic, set] of this.listeners) for (const listener of set) listener({ type: 'resync', topic });
    });
  }

  /** The events of one topic from now on; ends when the consumer stops (`return`). */
  subscribe(topic: string): AsyncIterableIterator<StreamedEvent> {
    const buffered: StreamedEvent[] = [{ type: 'snapshot', topic, stop: () => void finish() }];
    let wake: ((result: IteratorResult<StreamedEvent>) => void) | null = null;
    let done = false;
    const listener = (heard: Omit<StreamedEvent, 'stop'>) => {
      const event = { ...heard, stop: () => void finish() };
      if (wake) {
        const resolve = wake;
        wake = null;
        resolve({ value: event, done: false });
        return;
      }
      buffered.push(event);
      if (buffered.length > MAX_BUFFERED) buffered.shift();
    };
    const set = this.listeners.get(topic) ?? new Set();
    set.add(listener);
    this.listeners.set(topic, set);
    const finish = (): Promise<IteratorResult<StreamedEvent>> => {
      done = true;
      buffered.length = 0;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(topic);
      wake?.({ value: undefined, done: true });
      wake = null;
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next: () => {
        if (buffered.length) return Promise.resolve({ value: buffered.shift()!, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { wake = resolve; });
      },
      return: finish,
      throw: async (error: unknown) => { await finish(); throw error; },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  /** How many subscriptions listen now (for tests and metrics). */
  get listening(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  private dispatch(payload: string): void {
    let notice: EventNotice;
    try {
      notice = JSON.parse(payload);
    } catch {
      return;
    }
    for (const topic of Array.isArray(notice.topics) ? notice.topics : []) {
      for (const listener of this.listeners.get(topic) ?? []) listener({ type: notice.type, topic });
    }
  }
}
