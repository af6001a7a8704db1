import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import type { AppConfig } from './config';

/**
 * Rejects too-deep, too-aliased and too-costly operations before they execute. Rejections are reported as validation
 * errors (400, GRAPHQL_VALIDATION_FAILED); propagating them as throws made Apollo answer 500.
 */
export function queryLimitRules(config: Pick<AppConfig, 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_COST'>): ValidationRule[] {
  return [
    maxDepthRule({ n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true, exposeLimits: true, propagateOnRejection: false, onReject: [report] }),
    maxAliasesRule({ n: config.GRAPHQL_MAX_ALIASES, exposeLimits: true, propagateOnRejection: false, onReject: [report] }),
    costLimitRule({ maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: true, exposeLimits: true, propagateOnRejection: false, onReject: [report] }),
  ] as ValidationRule[];
}

function report(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(error);
}
