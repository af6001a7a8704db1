import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import { FORBIDDEN_CHARACTERS_RULE } from '../core/text';
import type { AppConfig } from '../core/config';
import { LRUCache } from 'lru-cache';
import { analyseOperation, type OperationAnalysis } from './operation-analysis';

// Report through the validation context (→ 400 GRAPHQL_VALIDATION_FAILED) instead of throwing (→ 500 under Apollo).
const report = {
  propagateOnRejection: false,
  exposeLimits: true,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')))],
};

/** Rejects too-deep and too-aliased operations before they execute (the cost needs the variables: see below). */
export function queryLimitRules(config: Pick<AppConfig, 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_ALIASES'>): ValidationRule[] {
  return [
    maxDepthRule({ n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: config.GRAPHQL_MAX_ALIASES, ...report }),
  ] as ValidationRule[];
}

/**
 * Once the operation and its variables are known, and before anything runs: refuses an operation costing more than
 * GRAPHQL_MAX_COST (400 GRAPHQL_VALIDATION_FAILED, as a validation rule would) and text arguments holding control
 * characters (400 BAD_USER_INPUT naming every such argument). See operation-analysis.ts for the cost model.
 */
export function operationLimits(config: Pick<AppConfig, 'GRAPHQL_MAX_COST'>): ApolloServerPlugin {
  // An operation without variables always has the same analysis: kept per document text and operation name, so the
  // walk runs once per distinct operation (the trivial query's cost walk was a measurable share of its time).
  const analysed = new LRUCache<string, OperationAnalysis | { none: true }>({ max: 1000, maxSize: 5_000_000, sizeCalculation: (_v, key) => key.length + 1 });
  const analysisOf = (schema: Parameters<typeof analyseOperation>[0], document: Parameters<typeof analyseOperation>[1],
    operation: Parameters<typeof analyseOperation>[2], query: string | undefined, operationName: string | null | undefined, variables: Record<string, unknown>) => {
    if (operation.variableDefinitions?.length || query === undefined) return analyseOperation(schema, document, operation, variables);
    const key = `${operationName ?? ''}\u0000${query}`;
    const cached = analysed.get(key);
    if (cached) return 'none' in cached ? null : cached;
    const analysis = analyseOperation(schema, document, operation, variables);
    analysed.set(key, analysis ?? { none: true });
    return analysis;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const analysis = analysisOf(schema, document, operation, request.query, request.operationName, request.variables ?? {});
          if (!analysis) return;
          if (analysis.cost > config.GRAPHQL_MAX_COST) {
            throw new GraphQLError(`Query Cost limit of ${config.GRAPHQL_MAX_COST} exceeded, found ${analysis.cost}.`, {
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
            });
          }
          if (analysis.badTexts.length) {
            const list = analysis.badTexts.map((b) => `${b.field}(${b.argument}) holds ${b.character}`).join('; ');
            throw new GraphQLError(`Text may not contain ${FORBIDDEN_CHARACTERS_RULE}: ${list}. Nothing was run.`, {
              extensions: {
                code: 'BAD_USER_INPUT',
                argumentName: analysis.badTexts[0].argument.split(/[.[ ]/)[0],
                invalidArguments: analysis.badTexts,
                http: { status: 400 },
              },
            });
          }
        },
      };
    },
  };
}
