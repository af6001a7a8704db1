import type { Feature } from './core/feature';
// Import order is the order type-graphql meets the GraphQL types, hence their order in the printed schema.graphql.
import { authFeature } from './auth/feature';
import { idempotencyFeature } from './idempotency/feature';
import { recordsFeature } from './records/feature';
import { eventsFeature } from './events/feature';
import { otpRulesFeature } from './otp-rules/feature';
import { otpFeature } from './otp/feature';
import { connectionsFeature } from './connections/feature';
import { fraudFeature } from './fraud/feature';

/**
 * Every feature, in the order they are built and started (stopped in reverse): a feature's `build` receives the
 * shared infrastructure and the services of the features before it. The order is also the order of the entities
 * and resolvers, which fixes the order of types in the printed schema. A new feature is one line here.
 */
export const FEATURES = [authFeature, idempotencyFeature, recordsFeature, eventsFeature, connectionsFeature, otpFeature, otpRulesFeature, fraudFeature] as const;

export type AnyFeature = (typeof FEATURES)[number];
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type NeedsOf<F> = F extends Feature<string, infer Needs, object, object> ? Needs : never;
type ProvidesOf<F> = F extends Feature<string, object, infer Provides, object> ? Provides : never;
type LoadersOf<F> = F extends Feature<string, object, object, infer L> ? L : never;

/** Every feature's services, by the names their `build` gave them. */
export type FeatureServices = UnionToIntersection<ProvidesOf<AnyFeature>>;
/** Every feature's loaders together. */
export type FeatureLoaders = UnionToIntersection<LoadersOf<AnyFeature>>;

/**
 * `true` when, walking the list in order, each feature's needs are met by `Have` plus what the features before it
 * provide; otherwise the name of the first feature whose needs are not met, and the names it lacks.
 */
export type WiredInOrder<Fs extends readonly unknown[], Have> =
  Fs extends readonly [infer F, ...infer Rest]
    ? Have extends NeedsOf<F>
      ? WiredInOrder<Rest, Have & ProvidesOf<F>>
      : `feature "${F extends Feature<infer Name, object, object, object> ? Name : never}" needs ${Exclude<keyof NeedsOf<F> & string, keyof Have>} (or a different type of it) from a feature before it or from the app`
    : true;
