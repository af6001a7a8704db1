import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import type { AppConfig } from './config';

// Report through the validation context (→ 400 GRAPHQL_VALIDATION_FAILED) instead of throwing (→ 500 under Apollo).
const report = {
  propagateOnRejection: false,
  exposeLimits: true,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')))],
};

/** Rejects too-deep, too-aliased and too-costly operations before they execute. */
export function queryLimitRules(config: Pick<AppConfig, 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_COST'>): ValidationRule[] {
  return [
    maxDepthRule({ n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: config.GRAPHQL_MAX_ALIASES, ...report }),
    // Linear cost (depth factor 1), list fields multiplied by their `first`: roughly the number of values returned.
    costLimitRule({ maxCost: config.GRAPHQL_MAX_COST, depthCostFactor: 1, objectCost: 2, scalarCost: 1, ignoreIntrospection: true, ...report }),
  ] as ValidationRule[];
}
