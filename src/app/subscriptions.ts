import type http from 'node:http';
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { useServer as UseServer } from 'graphql-ws/dist/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Authenticator, Principal } from '../auth/authenticator';
import type { RequestContext } from '../core/context';
import { RequestRefused } from '../core/errors';
import { formatError } from './errors';

// graphql-ws publishes its `ws` adapter only under package "exports", which `moduleResolution: node` does not read for
// types; Node resolves `graphql-ws/use/ws` itself at run time, and the adapter's own declarations type it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { useServer } = require('graphql-ws/use/ws') as { useServer: typeof UseServer };

export interface SubscriptionDeps {
  schema: GraphQLSchema;
  authenticator: Authenticator;
  validationRules: ValidationRule[];
  /** Fresh per-request loaders; a subscription gets new ones for each event (a loader's cache would keep old rows). */
  createLoaders(): RequestContext['loaders'];
  log: Logger;
  development: boolean;
}

/**
 * GraphQL subscriptions over graphql-ws (the `graphql-transport-ws` protocol) on the same path as HTTP GraphQL.
 * The client authenticates once per connection with the same API keys and JWTs, in `connectionParams.authorization`
 * ("Bearer …"; browsers cannot set headers on a WebSocket) or the upgrade request's Authorization header. Only
 * subscriptions run here; queries and mutations go over HTTP, where the cost limits and metrics apply.
 */
export function serveSubscriptions(httpServer: http.Server, path: string, deps: SubscriptionDeps): { close(): Promise<void> } {
  const wsServer = new WebSocketServer({ server: httpServer, path, maxPayload: 1024 * 1024 });
  const principals = new WeakMap<object, Principal>();
  const disposable = useServer({
    schema: deps.schema,
    async onConnect(ctx) {
      const params = ctx.connectionParams ?? {};
      const given = params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization;
      try {
        principals.set(ctx, await deps.authenticator.authenticate(typeof given === 'string' ? given : undefined));
        return true;
      } catch (error) {
        if (!(error instanceof RequestRefused)) deps.log.warn({ err: error }, 'could not authenticate a subscription connection');
        return false; // closes with 4403 Forbidden
      }
    },
    onSubscribe(ctx, id, payload) {
      let document;
      try {
        document = parse(payload.query);
      } catch (error) {
        return [error as GraphQLError];
      }
      const errors = validate(deps.schema, document, [...specifiedRules, ...deps.validationRules]);
      if (errors.length) return errors;
      const operation = getOperationAST(document, payload.operationName);
      if (operation?.operation !== 'subscription') {
        return [new GraphQLError('Only subscriptions run over WebSocket; send queries and mutations to POST /graphql.', { extensions: { code: 'BAD_REQUEST' } })];
      }
      const principal = principals.get(ctx)!;
      const context: RequestContext = {
        requestId: `ws:${id}`, user: principal.user, apiKeyId: principal.apiKeyId, ruleOtpHeaders: {},
        get loaders() { return deps.createLoaders(); },
        log: deps.log,
      };
      return { schema: deps.schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: context };
    },
    onNext(_ctx, _id, _payload, _args, result) {
      if (!result.errors?.length) return result;
      return { ...result, errors: result.errors.map((error) => formatError((error as GraphQLError).toJSON(), error, deps.log, deps.development)) };
    },
  }, wsServer);
  return {
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
