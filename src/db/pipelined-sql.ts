import { createHash, randomUUID } from 'node:crypto';
import { escapeLiteral, type Pool, type PoolClient, type QueryResult } from 'pg';
import type { DataSource } from 'typeorm';

/** One parameterised statement, to be sent with others in one message (see {@link runPipelined}). */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * A statement's `$n` placeholders moved up by `offset` (`$1` → `$8` for 7), to embed it (e.g. as a CTE) in a statement
 * whose own parameters come first. The statement must have no `$` in its literals.
 */
export function shiftParams(sql: string, offset: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

/**
 * A statement with each `$n` as a quoted literal (`pg.escapeLiteral`, the driver's own quoting), for a simple-query
 * message, which has no parameters: an untyped literal resolves to the type its place asks for, as an untyped
 * parameter does.
 */
export function inline(sql: string, params: unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new Error(`statement has no parameter $${n}`);
    return literal(params[index]);
  });
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('a statement parameter is not a finite number');
    return escapeLiteral(String(value));
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return escapeLiteral(value.toISOString());
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  if (Array.isArray(value)) return escapeLiteral(`{${value.map(arrayElement).join(',')}}`);
  if (typeof value === 'object') return escapeLiteral(JSON.stringify(value));
  throw new Error(`a statement parameter of type ${typeof value} cannot be inlined`);
}

function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error('only arrays of scalars can be inlined');
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Statements a connection keeps prepared for pipelined messages, by SQL text (named `cs_` + a hash of the text). */
const preparedOn = new WeakMap<PoolClient, Set<string>>();
/**
 * Bumped when a statement of the pool was found stale (a table's columns changed under it): every connection that
 * prepared its statements before then drops them (DEALLOCATE, in front of its next message) and prepares afresh.
 */
const poolGeneration = new WeakMap<Pool, number>();
const preparedGeneration = new WeakMap<PoolClient, number>();
/** Distinct statements one connection prepares at most; past it, the rest are sent as text and planned each time. */
const MAX_PREPARED_PER_CONNECTION = 100;
const PREPARED_PREFIX = 'cs_';

/** What {@link runPipelined} sends: `first` (optional) is committed on its own before `then` runs. */
export interface Pipeline {
  /**
   * Statements committed in their own transaction, asynchronously (`synchronous_commit` off: the commit does not wait
   * for the disk; `then`'s commit flushes it): for hot rows (shared rate-limit counters), locked only until this
   * commit instead of until `then`'s. When one fails, nothing of the message stays.
   */
  first?: Statement[];
  then: Statement[];
  /** Run after a failure, on the same connection and in the same message as its clean-up (e.g. to say which limit refused). */
  onError?: Statement;
}

/** Why a pipelined message failed, whether `first` had already committed (the caller gives it back then), and `onError`'s rows. */
export class PipelineError extends Error {
  /**
   * A prepared statement's result type changed under it (another instance's migration added or dropped a column of a
   * table it reads with `*`): Postgres refuses to run it again on that connection. The connection has been closed (its
   * prepared statements with it); the same message on another connection prepares afresh, so the caller may retry.
   */
  readonly stalePlan: boolean;

  constructor(override readonly cause: unknown, readonly firstCommitted: boolean, readonly onErrorRows: Array<Record<string, unknown>>) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.stalePlan = isStalePlan(cause);
  }
}

function isStalePlan(error: unknown): boolean {
  return (error as { code?: string })?.code === '0A000' && /cached plan must not change result type/.test(String((error as Error)?.message));
}

/** Set (for the session) by `first`'s transaction, so after a failure the connection tells whether `first` committed. */
const FIRST_COMMITTED = 'countersign.pipeline_first';

/**
 * Runs a {@link Pipeline} as one simple-query message (one round trip) and answers the results of `then`, one per
 * statement. Postgres runs `then` as one implicit transaction (an error in any rolls back all), each statement with its
 * own snapshot (READ COMMITTED), so a lock taken by one is held, and what others committed while waiting for it is
 * seen, by the ones after.
 * Each statement is prepared once per connection (a `PREPARE` in front of its first use, in the same message) and
 * run with `EXECUTE` and its parameters as literals, so Postgres plans it from its plan cache instead of planning
 * every statement of every message again (planning was more than half of a send's database time).
 * After a failure, one more message on the same connection ends a failed `first` block, asks whether `first`
 * committed and which statements the connection holds prepared (PREPARE is not transactional) and runs `onError`:
 * node-postgres reports the error before the server's ReadyForQuery, so the transaction state cannot be read off it.
 */
export async function runPipelined(pool: Pool, pipeline: Pipeline): Promise<QueryResult[]> {
  const client = await pool.connect();
  // a checked-out client has no 'error' listener of the pool's: without one, a connection Postgres ends (a restart, a
  // failover, pg_terminate_backend, a timeout) would emit an unheard 'error' and end the process; heard, the message
  // fails and the connection goes back to the pool as broken (closed, not reused)
  let broken: Error | undefined;
  const onError = (error: Error) => { broken = error; };
  client.on('error', onError);
  const giveBack = (failure?: Error | true) => {
    client.removeListener('error', onError);
    client.release(broken ?? failure);
  };
  let prepared = preparedOn.get(client);
  if (!prepared) preparedOn.set(client, (prepared = new Set()));
  const parts: string[] = [];
  const generation = poolGeneration.get(pool) ?? 0;
  if ((preparedGeneration.get(client) ?? 0) < generation) {
    parts.push(...[...prepared].map((name) => `DEALLOCATE ${name}`));
    prepared.clear();
  }
  preparedGeneration.set(client, generation);
  let preparing = 0;
  const wanted: number[] = []; // the positions of `then`'s results among the message's (PREPAREs and first's block answer too)
  const add = (statements: Statement[], answered: boolean) => {
    for (const s of statements) {
      const name = statementName(s.sql);
      if (!prepared.has(name) && prepared.size < MAX_PREPARED_PER_CONNECTION) {
        parts.push(`PREPARE ${name} AS ${s.sql}`);
        prepared.add(name);
        preparing += 1;
      }
      if (answered) wanted.push(parts.length);
      parts.push(prepared.has(name) ? execute(name, s.params) : inline(s.sql, s.params));
    }
  };
  const token = pipeline.first?.length ? randomUUID() : null;
  if (token) {
    parts.push('BEGIN', 'SET LOCAL synchronous_commit TO off');
    add(pipeline.first!, false);
    parts.push(`SELECT set_config('${FIRST_COMMITTED}', '${token}', false)`, 'COMMIT');
  }
  add(pipeline.then, true);
  try {
    const results = await client.query(parts.join(';\n')) as unknown as QueryResult | QueryResult[];
    giveBack();
    const all = Array.isArray(results) ? results : [results];
    return wanted.map((i) => all[i]);
  } catch (error) {
    // a connection whose prepared statements went stale is closed (the pool opens a fresh one), and the others drop
    // theirs before their next message
    if (isStalePlan(error)) poolGeneration.set(pool, generation + 1);
    const release = (failure?: Error | true) => giveBack(failure ?? (isStalePlan(error) ? true : undefined));
    if (!token && !preparing && !pipeline.onError) {
      release(); // an implicit transaction, rolled back whole; nothing prepared by it
      throw new PipelineError(error, false, []);
    }
    try {
      const answers = await client.query([
        'ROLLBACK', // only a failed `first` block is still open; otherwise a warning, nothing else
        `SELECT coalesce(current_setting('${FIRST_COMMITTED}', true) = '${token ?? ''}', false) AS first_committed,
                ARRAY(SELECT name FROM pg_prepared_statements WHERE starts_with(name, '${PREPARED_PREFIX}')) AS prepared`,
        ...(pipeline.onError ? [inline(pipeline.onError.sql, pipeline.onError.params)] : []),
      ].join(';\n')) as unknown as QueryResult[];
      const [state] = answers[1].rows as Array<{ first_committed: boolean; prepared: string[] }>;
      preparedOn.set(client, new Set(state.prepared));
      release();
      throw new PipelineError(error, token !== null && state.first_committed, pipeline.onError ? answers[2].rows : []);
    } catch (failure) {
      if (failure instanceof PipelineError) throw failure;
      release(failure instanceof Error ? failure : true); // a connection in an unknown state is closed, not reused
      throw new PipelineError(error, false, []);
    }
  }
}

/** Every statement name this process made, with its SQL (names are hashes of the text, the same on every connection). */
const statementTexts = new Map<string, string>();
/** The same, by SQL: a hot statement is hashed once, not on every message. */
const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `${PREPARED_PREFIX}${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
    statementTexts.set(name, sql);
  }
  return name;
}

/** A pipelined message as it would read unprepared: each `EXECUTE cs_…(…)` shown with its statement's SQL (for tests and logs). */
export function withStatementTexts(message: string): string {
  return message.replace(/EXECUTE (cs_[0-9a-f]+)/g, (whole, name: string) => `${whole} /* ${statementTexts.get(name) ?? '?'} */`);
}

function execute(name: string, params: unknown[]): string {
  // an EXECUTE argument is coerced to the type PREPARE inferred: a boolean goes as an untyped 'true'/'false', which
  // becomes a boolean or a text as its place asks (a bare TRUE could not become a text)
  return params.length ? `EXECUTE ${name}(${params.map((p) => (typeof p === 'boolean' ? `'${p}'` : literal(p))).join(', ')})` : `EXECUTE ${name}`;
}

/** What {@link preparedQueries} answers: statements run as a Queryable would, their rows as the answer. */
export interface PreparedQueries {
  query(sql: string, params?: unknown[]): Promise<any[]>;
}

/**
 * A pool seen as a {@link Queryable} whose statements are prepared once per connection (see {@link runPipelined}):
 * for the hot single statements (a verify's find and consume, the fraud screen's read) that would otherwise be
 * planned on every call. Answers the rows (for every statement, also UPDATE … RETURNING); a failure is the driver's own error.
 */
export function preparedQueries(pool: Pool): PreparedQueries {
  return {
    query: async (sql, params = []) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return (await runPipelined(pool, { then: [{ sql, params }] }))[0].rows;
        } catch (error) {
          // one statement that failed changed nothing: after a stale plan it runs again on a fresh connection
          if (error instanceof PipelineError && error.stalePlan && attempt < 2) continue;
          throw error instanceof PipelineError ? error.cause : error;
        }
      }
    },
  };
}

const preparedOfSource = new WeakMap<DataSource, PreparedQueries>();

/**
 * {@link preparedQueries} on a data source's pool, one per data source: for the per-request loaders, whose few
 * statements (by id, a page's connections and their counts) were planned again on every request.
 */
export function preparedQueriesOf(db: DataSource): PreparedQueries {
  let prepared = preparedOfSource.get(db);
  if (!prepared) preparedOfSource.set(db, (prepared = preparedQueries(poolOf(db))));
  return prepared;
}

/** The node-postgres pool under a TypeORM data source (for pipelined messages, which TypeORM cannot send). */
export function poolOf(db: DataSource): Pool {
  return (db.driver as unknown as { master: Pool }).master;
}
