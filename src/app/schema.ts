import { buildSchemaSync, type AuthChecker, type ContainerType, type PubSub } from 'type-graphql';
import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import type { RequestContext } from '../core/context';
import { FEATURES } from '../features';
import { validateArgument } from './argument-validation';

/** Every resolver class, feature by feature in the list's order. */
export const RESOLVERS = FEATURES.flatMap((feature) => feature.resolvers);

const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => roles.length === 0 || roles.includes(context.user.role);

/**
 * Builds the executable schema. `container` hands type-graphql the resolver instances, which receive their
 * services through their constructors; printing the schema needs neither.
 */
export function buildAppSchema(container?: ContainerType, pubSub?: PubSub): GraphQLSchema {
  return withFreshLoadersPerMutation(buildSchemaSync({
    // subscriptions' topics: the events feature's stream of committed events (LISTEN/NOTIFY); printing needs none
    pubSub: pubSub ?? { publish: () => undefined, subscribe: () => { throw new Error('no pubSub: this schema is for printing only'); } },
    resolvers: RESOLVERS as [Function, ...Function[]],
    container: container ?? { get: () => { throw new Error('no container: this schema is for printing only'); } },
    authChecker,
    // class-validator as type-graphql runs it, skipped where it has nothing to check. A global validateFn runs for every
    // argument, also those declared `validate: false` (type-graphql asks it before their settings): those (OtpRuleInput,
    // the JSON `fields` and `rows`) carry no class-validator decorator, which is what keeps them unvalidated here
    validateFn: validateArgument,
  }));
}

/**
 * Each top-level field of a mutation starts with fresh loaders (`RequestContext.freshLoaders`): the fields of a
 * mutation run one after another, each completed with its selection before the next starts, so a loader's cache from
 * an earlier field would answer rows as they were before this field changed them (a second `createConnection` reading
 * its record's connection count, say). Only the Mutation type's own resolvers are wrapped: nothing else pays for it.
 */
function withFreshLoadersPerMutation(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, context: RequestContext, info) => {
      context.freshLoaders?.();
      return resolve(source, args, context, info);
    };
  }
  return schema;
}
