import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { ApolloServerPlugin } from '@apollo/server';
import { RequestRefused, type RefusalCode } from '../core/errors';
import { isDatabaseUnavailable, isDataException, isStatementTimeout } from '../db/sql';

const CONTEXT_PREFIX = 'Context creation failed: ';

export const STATEMENT_TIMEOUT_MESSAGE = 'The database stopped this request because it ran longer than the server allows for one statement. '
  + 'Ask for less (fewer or narrower filters, smaller pages, fewer aliases) or try again later.';

/** HTTP status of a refusal when it stops the whole request (thrown while the context is built, before any resolver). */
const REFUSAL_HTTP_STATUS: Partial<Record<RefusalCode, number>> = { UNAUTHENTICATED: 401 };

/** `extensions` of a refused request: its code, then its details (e.g. `argumentName`). */
function refusalExtensions(refusal: RequestRefused): Record<string, unknown> {
  return { code: refusal.code, ...refusal.details };
}

/** The GraphQL form of a refusal thrown while building the request context (authentication), with its HTTP status. */
export function toGraphQLError(refusal: RequestRefused): GraphQLError {
  const status = REFUSAL_HTTP_STATUS[refusal.code];
  return new GraphQLError(refusal.message, { extensions: { ...refusalExtensions(refusal), ...(status ? { http: { status } } : {}) } });
}

/**
 * The one place where thrown errors become top-level GraphQL errors: a service's {@link RequestRefused} gets its code
 * and details as `extensions`, codes are normalised, class-validator details reduced to field and message, and
 * unexpected faults hidden behind a generic message (logged here, with the stack).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: Logger, development: boolean): GraphQLFormattedError {
  const original = unwrapResolverError(error) as { extensions?: Record<string, unknown> } | undefined;
  const extensions = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
  let message = formatted.message.startsWith(CONTEXT_PREFIX) ? formatted.message.slice(CONTEXT_PREFIX.length) : formatted.message;
  if (original instanceof RequestRefused) return { ...formatted, message: original.message, extensions: refusalExtensions(original) };

  if (extensions.code === 'UNAUTHORIZED') extensions.code = 'FORBIDDEN';
  if (Array.isArray(extensions.validationErrors)) {
    extensions.validationErrors = (extensions.validationErrors as Array<{ property: string; constraints?: Record<string, string>; children?: unknown[] }>)
      .flatMap((v) => flattenValidation(v, []));
    message = `Invalid arguments: ${(extensions.validationErrors as Array<{ field: string; messages: string[] }>).map((v) => v.messages.join(', ')).join('; ')}`;
  }
  if (isDatabaseUnavailable(original) || isDatabaseUnavailable(error)) {
    log.warn({ err: original ?? error }, 'database unavailable while answering a GraphQL request');
    return { message: 'The database is unreachable right now; nothing was changed. Try again shortly.', locations: formatted.locations, path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
  }
  if (isStatementTimeout(original) || isStatementTimeout(error)) {
    log.warn({ err: original ?? error }, 'a database statement ran past DB_STATEMENT_TIMEOUT_MS and was stopped');
    return { message: STATEMENT_TIMEOUT_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: 'TIMEOUT' } };
  }
  if (isDataException(original) || isDataException(error)) {
    // Input checks should stop every such value first; this net keeps Postgres' words from the client if one is missed.
    log.error({ err: original ?? error }, 'Postgres refused a value that input validation let through');
    return { message: 'A value in the request cannot be stored or compared (for example a malformed date or an out-of-range number).', locations: formatted.locations, path: formatted.path, extensions: { code: 'BAD_USER_INPUT' } };
  }
  if (!extensions.code || extensions.code === 'INTERNAL_SERVER_ERROR') {
    log.error({ err: original ?? error }, 'unexpected error while answering a GraphQL request');
    extensions.code = 'INTERNAL_SERVER_ERROR';
    if (!development) {
      return { message: 'Internal server error.', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  }
  return { ...formatted, message, extensions };
}

function flattenValidation(v: { property: string; constraints?: Record<string, string>; children?: unknown[] }, path: string[]): Array<{ field: string; messages: string[] }> {
  const here = [...path, v.property];
  const own = v.constraints ? [{ field: here.join('.'), messages: Object.values(v.constraints) }] : [];
  const nested = (v.children ?? []).flatMap((c) => flattenValidation(c as typeof v, here));
  return [...own, ...nested];
}

/** A response carrying SERVICE_UNAVAILABLE answers HTTP 503, so clients and load balancers retry elsewhere. */
export const serviceUnavailableStatus: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        if (errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) {
          response.http.status = 503;
          response.http.headers.set('retry-after', '2');
        }
      },
    };
  },
};
