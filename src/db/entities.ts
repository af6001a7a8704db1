import { FEATURES } from '../features';

/** Every TypeORM entity: each feature lists its own in its `feature.ts`. */
export const entities = FEATURES.flatMap((feature) => feature.entities);
