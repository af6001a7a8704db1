import type { DataSource } from 'typeorm';
import type { Loaders } from './context';

/** What a feature's `build` hands back: its services (for the features after it and for the app), its resolver instances and its background work. */
export interface FeatureParts<Provides extends object> {
  /** Merged into the dependencies of every later feature and into the app's `Services`, by these names. */
  services: Provides;
  /** One instance of each class in the feature's `resolvers`; type-graphql gets them from here. */
  resolvers: object[];
  /** Background work, started once the database is ready, in the order of the feature list. */
  start?(): Promise<void>;
  /** Stops what `start` began; called in the reverse order of the feature list, before the pools close. */
  stop?(): Promise<void>;
}

/**
 * One feature folder as the app sees it: its TypeORM entities, its type-graphql resolver classes, its per-request
 * loaders and how to build its services from shared infrastructure and the services of the features before it.
 */
export interface Feature<Name extends string, Needs extends object, Provides extends object, FeatureLoaders extends Partial<Loaders>> {
  readonly name: Name;
  readonly entities: readonly Function[];
  readonly resolvers: readonly Function[];
  /** This feature's part of `ctx.loaders`, created per request (types declared by augmenting `Loaders`). */
  loaders(db: DataSource): FeatureLoaders;
  build(deps: Needs): FeatureParts<Provides>;
}

/** Declares a feature, keeping the exact types of what it needs, provides and loads, so the app's loops stay typed. */
export function defineFeature<Name extends string, Needs extends object, Provides extends object, FeatureLoaders extends Partial<Loaders>>(
  feature: Feature<Name, Needs, Provides, FeatureLoaders>,
): Feature<Name, Needs, Provides, FeatureLoaders> {
  return feature;
}
