import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { byIdLoader } from '../core/loader';
import { preparedQueriesOf } from '../db/pipelined-sql';
import { countHistories, loadHistoryPages, type ConnectionHistoryRow } from './connection-history';
import { toConnectionTypeEntity, type ConnectionTypeEntity } from './connection-type.entity';
import {
  countRecordConnections, loadRecordConnectionGroups, loadRecordConnectionSlices, type RecordConnectionFilter,
  type RecordConnectionGroupSlice, type RecordConnectionsSlice,
} from './connection.query';

/** One record's connections page: the same filter, size and cursor for every record batch together. */
export interface RecordConnectionsKey {
  recordId: string;
  filter: RecordConnectionFilter;
  first: number;
  after: string | null;
  /** The operation asks only the other record's id, module or label: the statement reads only those. */
  partialOther: boolean;
}

export interface RecordConnectionCountKey {
  recordId: string;
  filter: RecordConnectionFilter;
}

declare module '../core/context' {
  interface Loaders extends ConnectionLoaders {}
}

/** One connection's history page: the same size and position for every connection batch together. */
export interface ConnectionHistoryKey {
  connectionId: string;
  first: number;
  /** The entry the page starts after (its cursor decoded by the resolver, so a bad one fails only its own field). */
  afterId: string | null;
}

export interface ConnectionLoaders {
  connectionTypes: DataLoader<string, ConnectionTypeEntity | null>;
  connectionHistory: DataLoader<ConnectionHistoryKey, ConnectionHistoryRow[], string>;
  connectionHistoryCounts: DataLoader<string, number>;
  recordConnections: DataLoader<RecordConnectionsKey, RecordConnectionsSlice, string>;
  recordConnectionCounts: DataLoader<RecordConnectionCountKey, number, string>;
  recordConnectionGroups: DataLoader<RecordConnectionGroupsKey, RecordConnectionGroupSlice[], string>;
}

export interface RecordConnectionGroupsKey {
  recordId: string;
  filter: RecordConnectionFilter;
  first: number;
}

/** Groups keys by everything but the record (or connection), so a page costs one statement per distinct argument set. */
function groupBy<K>(keys: readonly K[], shared: (key: K) => string): Map<string, K[]> {
  const groups = new Map<string, K[]>();
  for (const key of keys) {
    const group = shared(key);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(key);
  }
  return groups;
}

export function createConnectionLoaders(source: DataSource): ConnectionLoaders {
  // prepared once per connection: planning these statements cost more than running them (their generic plans look
  // each other record up by id whatever the statistics, see liveRecordLookupSql and connection-page-plan.test.ts)
  const db = preparedQueriesOf(source);
  const pageArgs = (k: RecordConnectionsKey) => JSON.stringify([k.filter, k.first, k.after, k.partialOther]);
  return {
    connectionTypes: byIdLoader(db, 'connection_types', toConnectionTypeEntity),
    recordConnections: new DataLoader<RecordConnectionsKey, RecordConnectionsSlice, string>(async (keys) => {
      const slices = new Map<RecordConnectionsKey, RecordConnectionsSlice>();
      for (const group of groupBy(keys, pageArgs).values()) {
        const { filter, first, after, partialOther } = group[0];
        const byRecord = await loadRecordConnectionSlices(db, group.map((k) => k.recordId), filter, first, after, partialOther);
        group.forEach((key) => slices.set(key, byRecord.get(key.recordId.toLowerCase())!));
      }
      return keys.map((key) => slices.get(key)!);
    }, { cacheKeyFn: (k) => `${k.recordId}:${pageArgs(k)}`, maxBatchSize: 1000 }),
    connectionHistory: new DataLoader<ConnectionHistoryKey, ConnectionHistoryRow[], string>(async (keys) => {
      const pages = new Map<ConnectionHistoryKey, ConnectionHistoryRow[]>();
      for (const group of groupBy(keys, (k) => JSON.stringify([k.first, k.afterId])).values()) {
        const byConnection = await loadHistoryPages(db, group.map((k) => k.connectionId), group[0].first, group[0].afterId);
        group.forEach((key) => pages.set(key, byConnection.get(key.connectionId.toLowerCase())!));
      }
      return keys.map((key) => pages.get(key)!);
    // batched, never cached: a history grows with every change of its connection, and an operation may change a
    // connection in one field and read its history in the next (a cache would answer the history as it was before)
    }, { cache: false, maxBatchSize: 1000 }),
    connectionHistoryCounts: new DataLoader<string, number>(async (ids) => {
      const counts = await countHistories(db, [...ids]);
      return ids.map((id) => counts.get(id.toLowerCase()) ?? 0);
    }, { cache: false, maxBatchSize: 1000 }),
    recordConnectionCounts: new DataLoader<RecordConnectionCountKey, number, string>(async (keys) => {
      const counts = new Map<RecordConnectionCountKey, number>();
      for (const group of groupBy(keys, (k) => JSON.stringify(k.filter)).values()) {
        const byRecord = await countRecordConnections(db, group.map((k) => k.recordId), group[0].filter);
        group.forEach((key) => counts.set(key, byRecord.get(key.recordId.toLowerCase()) ?? 0));
      }
      return keys.map((key) => counts.get(key)!);
    }, { cacheKeyFn: (k) => `${k.recordId}:${JSON.stringify(k.filter)}`, maxBatchSize: 1000 }),
    recordConnectionGroups: new DataLoader<RecordConnectionGroupsKey, RecordConnectionGroupSlice[], string>(async (keys) => {
      const result = new Map<RecordConnectionGroupsKey, RecordConnectionGroupSlice[]>();
      for (const group of groupBy(keys, (k) => JSON.stringify([k.filter, k.first])).values()) {
        const byRecord = await loadRecordConnectionGroups(db, group.map((k) => k.recordId), group[0].filter, group[0].first);
        group.forEach((key) => result.set(key, byRecord.get(key.recordId.toLowerCase()) ?? []));
      }
      return keys.map((key) => result.get(key)!);
    }, { cacheKeyFn: (k) => `${k.recordId}:${JSON.stringify([k.filter, k.first])}`, maxBatchSize: 1000 }),
  };
}
