import type { DataSource } from 'typeorm';
import { BadUserInput } from '../core/errors';
import { isUuid } from '../core/ids';
import { isStatementTimeout } from '../db/sql';
import { liveRecordJoinSql } from '../records/record.sql';
import { CONNECTION_COLUMNS, toConnectionEntity, type ConnectionEntity } from './connection.entity';
import { activeOnSql } from './connection.query';

/** Longest path asked for. */
export const MAX_HOPS = 4;
/** Most `against` records of one conflict check. */
export const MAX_AGAINST = 100;
/** Most paths one `connectionPaths` answers. */
export const MAX_PATHS = 20;
/**
 * Fan-out bounds: from the two ends of a search, at most FIRST_HOP_FANOUT connections of each end are walked; from
 * the records one hop away, at most NEXT_HOP_FANOUT each (oldest first, per side). A hub with 10⁴ links in the middle
 * is still met from both ends; only paths that must leave a hub through one of its later links are missed.
 */
export const FIRST_HOP_FANOUT = 1000;
export const NEXT_HOP_FANOUT = 100;
/** The cost limit: a search running longer is stopped by Postgres and refused with a clear message. */
export const PATH_TIMEOUT_MS = 3000;

export interface PathOptions {
  maxHops: number;
  typeIds: string[] | null;
  activeOn: string | null;
}

/** One path: `recordIds` from the start to the end (hops + 1 of them) and the connection of each hop. */
export interface FoundPath {
  recordIds: string[];
  connections: ConnectionEntity[];
}

export function checkPathOptions(input: { maxHops?: number | null; typeIds?: string[] | null; activeOn?: string | null }): PathOptions {
  const maxHops = input.maxHops ?? 3;
  if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > MAX_HOPS) throw new BadUserInput(`maxHops must be between 1 and ${MAX_HOPS}; got ${maxHops}.`, 'maxHops');
  if (input.typeIds && input.typeIds.length > 100) throw new BadUserInput('typeIds takes at most 100 ids.', 'typeIds');
  return {
    maxHops,
    // ids that are not UUIDs name no type: kept as a filter that matches nothing
    typeIds: input.typeIds ? [...new Set(input.typeIds.filter(isUuid).map((id) => id.toLowerCase()))] : null,
    activeOn: input.activeOn ?? null,
  };
}

/**
 * The walk from `$start` (seeds: a uuid[] parameter, each seed its own origin) up to `depthParam` hops: one row per
 * simple path (no record twice), through live records only, fan-out bounded per record. `cte` names it.
 */
function walkSql(cte: string, seeds: string, depthParam: string, stopAt: string, filters: string): string {
  const side = (mine: string, other: string, extra = '') => `(SELECT c.id, c.${other} AS other FROM connections c
            WHERE c.${mine} = w.node ${extra} ${filters}
            ORDER BY c.created_at, c.id LIMIT (CASE WHEN w.depth = 0 THEN ${FIRST_HOP_FANOUT} ELSE ${NEXT_HOP_FANOUT} END))`;
  return `${cte}(origin, node, nodes, conns, depth) AS (
      SELECT s, s, ARRAY[s], ARRAY[]::uuid[], 0 FROM unnest(${seeds}::uuid[]) AS s
      UNION ALL
      SELECT w.origin, n.other, w.nodes || n.other, w.conns || n.id, w.depth + 1
        FROM ${cte} w
        CROSS JOIN LATERAL (
          SELECT x.id, x.other FROM (${side('source_id', 'target_id')} UNION ALL ${side('target_id', 'source_id', 'AND c.source_id <> w.node')}) AS x
          ${liveRecordJoinSql('o', 'x.other')}
           WHERE NOT (x.other = ANY(w.nodes))) AS n
       WHERE w.depth < ${depthParam} AND NOT (w.node = ANY(${stopAt}::uuid[]) AND w.depth > 0))`;
}

/**
 * Shortest simple paths from `from` to each of `targets`, at most `perTarget` each, computed in one statement: the
 * search meets in the middle — a walk from `from` of ⌈maxHops/2⌉ hops and one from the targets of ⌊maxHops/2⌋, joined
 * on the record where they meet (a path found at several meeting records counted once) — so a 4-hop search costs two
 * 2-hop walks, and a path is missed only when every way of splitting it would leave a hub through a link past the
 * fan-out bound. Runs under a statement timeout of {@link PATH_TIMEOUT_MS}.
 */
export async function findPaths(db: DataSource, from: string, targets: string[], options: PathOptions, perTarget: number): Promise<Map<string, FoundPath[]>> {
  const found = new Map<string, FoundPath[]>(targets.map((t) => [t, []]));
  if (options.typeIds?.length === 0 || targets.length === 0) return found;
  const params: unknown[] = [from, targets, Math.ceil(options.maxHops / 2), Math.floor(options.maxHops / 2), options.maxHops, perTarget];
  const param = (value: unknown) => `$${params.push(value)}`;
  const filters = [
    options.typeIds ? `AND c.type_id = ANY(${param(options.typeIds)}::uuid[])` : '',
    options.activeOn ? `AND ${activeOnSql('c', param(options.activeOn))}` : '',
  ].join(' ');
  const sql = `WITH RECURSIVE
      ${walkSql('fwd', 'ARRAY[$1::uuid]', '$3', '$2', filters)},
      ${walkSql('bwd', '$2', '$4', 'ARRAY[$1::uuid]', filters)},
      joined AS (
        SELECT DISTINCT ON (b.origin, f.conns || ARRAY(SELECT b.conns[i] FROM generate_series(b.depth, 1, -1) AS i)) b.origin AS target, f.nodes || ARRAY(SELECT b.nodes[i] FROM generate_series(b.depth, 1, -1) AS i) AS nodes,
               f.conns || ARRAY(SELECT b.conns[i] FROM generate_series(b.depth, 1, -1) AS i) AS conns,
               f.depth + b.depth AS hops
          FROM fwd f JOIN bwd b ON b.node = f.node
         WHERE f.depth + b.depth BETWEEN 1 AND $5
           AND NOT (f.nodes[1:f.depth] && b.nodes) AND NOT (b.nodes[1:b.depth] && f.nodes)),
      ranked AS (SELECT j.*, row_number() OVER (PARTITION BY j.target ORDER BY j.hops, j.conns) AS n FROM joined j)
    SELECT target, nodes, conns FROM ranked WHERE n <= $6 ORDER BY target, hops, conns`;
  let rows: Array<{ target: string; nodes: string[]; conns: string[] }>;
  try {
    rows = await db.transaction(async (tx) => {
      await tx.query(`SET LOCAL statement_timeout = ${PATH_TIMEOUT_MS}`);
      return tx.query(sql, params);
    });
  } catch (error) {
    if (isStatementTimeout(error)) {
      throw new BadUserInput(`The path search ran past its cost limit (${PATH_TIMEOUT_MS / 1000} s) and was stopped; ask for fewer hops, name typeIds or give activeOn.`, 'maxHops');
    }
    throw error;
  }
  const connectionIds = [...new Set(rows.flatMap((r) => r.conns))];
  const connections = new Map<string, ConnectionEntity>();
  if (connectionIds.length) {
    const loaded = await db.query(`SELECT ${CONNECTION_COLUMNS} FROM connections c WHERE c.id = ANY($1::uuid[])`, [connectionIds]);
    loaded.forEach((row: Record<string, unknown>) => { const c = toConnectionEntity(row); connections.set(c.id, c); });
  }
  for (const row of rows) {
    // a connection deleted between the two statements drops the path rather than answering half of it
    if (row.conns.every((id) => connections.has(id))) found.get(row.target)!.push({ recordIds: row.nodes, connections: row.conns.map((id) => connections.get(id)!) });
  }
  return found;
}

export type LiveIds = (ids: string[]) => Promise<Set<string>>;

/** `connectionPaths` and `conflictCheck`: checks arguments, then one search statement (plus one to load the connections). */
export class ConnectionPathService {
  constructor(private readonly db: DataSource) {}

  /** `liveIds` answers which of the ids are live records (the request's records loader). */
  async paths(liveIds: LiveIds, from: string, to: string, options: PathOptions, first: number): Promise<FoundPath[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PATHS) throw new BadUserInput(`first must be between 1 and ${MAX_PATHS}; got ${first}.`, 'first');
    const [start, end] = [String(from).toLowerCase(), String(to).toLowerCase()];
    const live = await liveIds([start, end].filter(isUuid));
    if (!live.has(start)) throw new BadUserInput('No record has this id.', 'from');
    if (!live.has(end)) throw new BadUserInput('No record has this id.', 'to');
    if (start === end) throw new BadUserInput('from and to are the same record.', 'to');
    return (await findPaths(this.db, start, [end], options, first)).get(end)!;
  }

  /** One answer per distinct `against` id, in the order given; ids of no live record answer `linked: false`. */
  async conflicts(liveIds: LiveIds, recordId: string, against: string[], options: PathOptions): Promise<Array<{ recordId: string; path: FoundPath | null }>> {
    if (against.length > MAX_AGAINST) throw new BadUserInput(`against takes at most ${MAX_AGAINST} record ids; got ${against.length}.`, 'against');
    const start = String(recordId).toLowerCase();
    const ids = [...new Set(against.map((id) => String(id).toLowerCase()))];
    const live = await liveIds([start, ...ids].filter(isUuid));
    if (!live.has(start)) throw new BadUserInput('No record has this id.', 'recordId');
    const targets = ids.filter((id) => live.has(id) && id !== start);
    const found = await findPaths(this.db, start, targets, options, 1);
    return ids.map((id) => ({ recordId: id, path: found.get(id)?.[0] ?? null }));
  }
}
