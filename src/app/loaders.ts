import type { DataSource } from 'typeorm';
import type { Loaders } from '../core/context';
import { FEATURES, type FeatureLoaders } from '../features';

/** Created per request, so batching and caching never leak between callers; each feature declares and creates its own. */
export function createLoaders(db: DataSource): Loaders {
  const loaders: FeatureLoaders = Object.assign({}, ...FEATURES.map((feature) => feature.loaders(db)));
  return loaders;
}
