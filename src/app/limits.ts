import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type { ValidationRule } from 'graphql';
import type { AppConfig } from './config';

/** Rejects too-deep, too-aliased and too-costly operations before they execute. */
export function queryLimitRules(config: Pick<AppConfig, 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_COST'>): ValidationRule[] {
  return [
    maxDepthRule({ n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true, exposeLimits: true, propagateOnRejection: true }),
    maxAliasesRule({ n: config.GRAPHQL_MAX_ALIASES, exposeLimits: true, propagateOnRejection: true }),
    costLimitRule({ maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: true, exposeLimits: true, propagateOnRejection: true }),
  ] as ValidationRule[];
}
