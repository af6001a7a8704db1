import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

type Gateway = ApolloServerOptionsWithGateway<any>['gateway'];

/** What the cache holds per operation: how often it ran uncompiled, then its compiled form or "graphql's execute". */
type Entry = { uses: number } | { compiled: CompiledQuery } | { fallback: true };

export interface JitExecutorOptions {
  /** Most operations kept (LRU): compiled ones, ones that could not be compiled, and ones seen once. */
  maxOperations: number;
  /** A document runs on graphql's execute this many times before it is compiled: one-off documents never cost a compile. */
  compileAfter: number;
}

/**
 * Runs operations compiled by graphql-jit, each compiled once per document text and operation name (bounded cache),
 * and falls back to graphql's own `execute` for what graphql-jit cannot compile or does not serve (subscriptions).
 */
export class JitExecutor {
  private readonly cache: LRUCache<string, Entry>;

  constructor(private readonly schema: GraphQLSchema, private readonly options: JitExecutorOptions = { maxOperations: 500, compileAfter: 0 }) {
    this.cache = new LRUCache<string, Entry>({ max: options.maxOperations });
  }

  /** How many operations the cache holds now, and how many of them are compiled. */
  get size(): { operations: number; compiled: number } {
    let compiled = 0;
    for (const entry of this.cache.values()) if ('compiled' in entry) compiled++;
    return { operations: this.cache.size, compiled };
  }

  /** `key` names the document's text (Apollo's query hash); the same key must always come with the same document. */
  execute(args: {
    key: string | undefined; document: DocumentNode; operation: OperationDefinitionNode | undefined; operationName: string | null | undefined;
    variables: Record<string, unknown> | undefined; context: unknown;
  }): ExecutionResult | Promise<ExecutionResult> {
    const compiled = !args.key || args.operation?.operation === 'subscription' ? null
      : this.compiled(`${args.operationName ?? ''}\u0000${args.key}`, args.document, args.operationName);
    if (compiled) {
      const result = compiled.query(undefined, args.context, args.variables ?? {}) as ExecutionResult | Promise<ExecutionResult>;
      return result instanceof Promise ? result.then(withGraphQLErrors) : withGraphQLErrors(result);
    }
    return execute({
      schema: this.schema, document: args.document, contextValue: args.context, variableValues: args.variables, operationName: args.operationName,
    });
  }

  private compiled(key: string, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
    const entry = this.cache.get(key);
    if (entry && 'compiled' in entry) return entry.compiled;
    if (entry && 'fallback' in entry) return null;
    const uses = entry ? entry.uses + 1 : 1;
    if (uses <= this.options.compileAfter) {
      this.cache.set(key, { uses });
      return null;
    }
    let result: CompiledQuery | ExecutionResult | null = null;
    try {
      result = compileQuery(this.schema, document, operationName ?? undefined);
    } catch {
      result = null; // a document graphql-jit cannot handle: graphql's execute answers it, errors and all
    }
    if (result && isCompiledQuery(result)) {
      this.cache.set(key, { compiled: result });
      return result;
    }
    this.cache.set(key, { fallback: true });
    return null;
  }
}

/**
 * graphql-jit's errors copy only what Apollo and our formatError read (message, locations, path, the original error)
 * but leave `extensions` undefined where graphql's are `{}`, which makes Apollo answer "Internal server error" for any
 * error: each becomes graphql's own GraphQLError, as `execute` would have made it.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((jitError) => {
    const error = new GraphQLError(jitError.message, {
      path: jitError.path, originalError: jitError.originalError ?? undefined, extensions: jitError.extensions,
    });
    (error as { locations?: GraphQLError['locations'] }).locations = jitError.locations;
    return error;
  });
  return { ...result, errors };
}

/**
 * Apollo Server's `gateway` hook, used for its executor only: the schema is ours, static; every operation Apollo has
 * parsed, validated and checked (plugins, limits) is then run by {@link JitExecutor}.
 */
export function jitGateway(schema: GraphQLSchema, options?: JitExecutorOptions): Gateway {
  const executor = new JitExecutor(schema, options);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (request) => executor.execute({
          key: request.queryHash, document: request.document, operation: request.operation, operationName: request.operationName,
          variables: request.request.variables, context: request.context,
        }),
      };
    },
    async stop() {},
  };
}
