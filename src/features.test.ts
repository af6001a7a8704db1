import type { SharedInfra } from './app/services';
import { authFeature } from './auth/feature';
import { entities } from './db/entities';
import { FEATURES, type WiredInOrder } from './features';
import { idempotencyFeature } from './idempotency/feature';
import { otpRulesFeature } from './otp-rules/feature';
import { recordsFeature } from './records/feature';

describe('a maintainer adding or reordering features', () => {
  test('the list builds every feature after the ones it needs (checked by the compiler; this file compiles only then)', () => {
    const wired: WiredInOrder<typeof FEATURES, SharedInfra> = true;
    expect(wired).toBe(true);
  });

  test('building otp-rules before otp fails to compile, naming the feature and what it lacks', () => {
    const message: WiredInOrder<[typeof authFeature, typeof idempotencyFeature, typeof recordsFeature, typeof otpRulesFeature], SharedInfra> =
      'feature "otp-rules" needs otp (or a different type of it) from a feature before it or from the app';
    expect(message).toMatch(/otp-rules/);
  });

  test('feature names, entities and resolver classes each appear once', () => {
    const names = FEATURES.map((feature) => feature.name);
    const resolvers = FEATURES.flatMap((feature) => feature.resolvers);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(entities).size).toBe(entities.length);
    expect(new Set(resolvers).size).toBe(resolvers.length);
    expect(names).toEqual(['auth', 'idempotency', 'records', 'events', 'connections', 'otp', 'otp-rules', 'fraud']);
  });
});
